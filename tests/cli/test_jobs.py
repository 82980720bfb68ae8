"""``--jobs``: a large tree read by several processes says and writes what one process
does (the comparison file by file and place by place: tests/unit/compiler/test_parallel.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.generate import generate
from tests.helpers import run_cli


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Past both thresholds for three processes (128 KiB of files and 150 entities each),
    with problems."""
    tree = generate(tmp_path_factory.mktemp("large") / "providers.d", 300)
    (tree / "00150-broken.yaml").write_text(
        "kind: Provider\nid: broken\napi: openai-completions\nbaseURL: http://b.example\n"
        "apiKey: sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123\nmodels: {m: {maxTokens: yes}}\n"
    )
    (tree / "00280-clear.yaml").write_text(
        "kind: Provider\nid: clear\napi: openai-completions\nbaseUrl: http://c.example\n"
        "apiKey: '{{ env.C_KEY }}'\nmodels: {m: {}}\n"
    )
    return tree


def test_every_number_of_processes_says_the_same(large: Path) -> None:
    runs = [
        run_cli(
            "validate",
            "--no-cache",
            "--jobs",
            jobs,
            "--format",
            "json",
            str(large),
            subprocess_=True,
        )
        for jobs in ("1", "2", "3")
    ]
    assert runs[0].returncode == 1
    assert "insecure-key-transport" in runs[0].stdout
    assert "unknown-key" in runs[0].stdout
    for run in runs[1:]:
        assert (run.returncode, run.stdout, run.stderr) == (
            runs[0].returncode,
            runs[0].stdout,
            runs[0].stderr,
        )


def test_every_number_of_processes_writes_the_same_artifact(large: Path, tmp_path: Path) -> None:
    (large.parent / "ok").mkdir()
    valid = generate(large.parent / "ok", 300)
    written = []
    for jobs in ("1", "2"):
        out = tmp_path / f"{jobs}.json"
        done = run_cli("compile", "--jobs", jobs, str(valid), "-o", str(out), subprocess_=True)
        assert done.returncode == 0, done.stderr
        written.append(out.read_bytes())
    assert written[0] == written[1]


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_a_number_of_processes_below_one_is_refused(jobs: str, large: Path) -> None:
    done = run_cli("validate", "--jobs", jobs, str(large))
    assert done.returncode == 2
    assert "--jobs" in done.stderr
