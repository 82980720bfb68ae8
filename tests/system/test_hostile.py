"""Hostile input: every case refused with its diagnostic, quickly, in bounded memory.

Each case runs the real command line in a subprocess limited to 512 MiB of address space.
The timeout is a hang guard, not a speed assertion (speed lives in the benchmark): the
cases take well under a second.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO

CORPUS = REPO / "tests" / "fixtures" / "hostile"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir())
MEMORY_LIMIT = 512 << 20
HANG_GUARD_S = 30
MARKER = Path("/tmp/flue-decl-hostile-ran")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_bounded(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    full.pop("GITHUB_ACTIONS", None)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flue_decl", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
        preexec_fn=_limit_memory,
    )


def _codes(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (1, 2), result.stdout + result.stderr
    diagnostics: list[dict[str, Any]] = json.loads(result.stdout)["diagnostics"]
    return diagnostics


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text())
    MARKER.unlink(missing_ok=True)
    command = expected.get("command", "validate")
    result = run_bounded(
        command, "input.yaml", "--format", "json", cwd=case, env=expected.get("env")
    )
    found = _codes(result)
    assert [d["code"] for d in found] == expected["codes"]
    assert found[0]["line"] == expected["line"]
    assert not MARKER.exists(), "a YAML tag ran code"
    assert "CANARY" not in result.stdout + result.stderr


def test_file_over_the_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"kind: Provider\nid: x\npad: " + b"x" * (64 << 20) + b"\n")
    found = _codes(run_bounded("validate", "big.yaml", "--format", "json", cwd=tmp_path))
    assert [(d["code"], d["line"]) for d in found] == [("file-too-large", 1)]


def test_wide_mapping_and_many_documents_stay_bounded(tmp_path: Path) -> None:
    keys = "".join(f"  k{i}: {{}}\n" for i in range(60_000))
    (tmp_path / "wide.yaml").write_text(
        "kind: Provider\nid: w\napi: openai-completions\nbaseUrl: https://w.example\nmodels:\n"
        + keys
    )
    (tmp_path / "many.yaml").write_text("---\n" * 200_000)
    result = run_bounded("validate", "wide.yaml", "many.yaml", "--format", "json", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stdout[-500:] + result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["validate", "--format", "json"],
        ["validate", "--format", "github"],
        ["validate", "--format", "sarif"],
        ["compile"],
        ["compile", "-o", "out.json"],
        ["list"],
        ["calls"],
    ],
    ids=" ".join,
)
def test_file_names_that_are_not_utf8_are_shown_escaped(tmp_path: Path, command: list[str]) -> None:
    from tests.helpers import run_cli

    tree = tmp_path / "providers.d"
    tree.mkdir()
    bad = os.fsencode(tree) + b"/20-bad\xe9.yaml"
    with open(os.fsencode(tree) + b"/10-\xff\xfe.yaml", "w") as fh:
        fh.write("kind: ProviderConfiguration\nid: openai\nbaseUrl: https://x.example/v1\n")
    with open(bad, "w") as fh:
        fh.write("kind: ProviderConfiguration\nid: anthropic\nstoreResponses: 12\n")
    result = run_cli(*command, "providers.d", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
    shown = result.stdout + result.stderr
    if command[0] == "validate" or command == ["list"]:
        expected = "20-bad%E9.yaml" if "sarif" in command else "20-bad\\udce9.yaml"
        assert expected in shown
    if command[-1] == "out.json" or command == ["compile"]:  # an error: nothing written
        assert result.returncode == 1
    # With the error fixed, the artifact is written and loads, names and all.
    os.unlink(bad)
    if command[0] == "compile":
        result = run_cli("compile", "-o", "out.json", "providers.d", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        from flue_decl import load_artifact

        registry = load_artifact(str(tmp_path / "out.json"))
        origin = registry.origins("configureProvider", "openai")[("baseUrl",)]
        assert os.fsencode(origin.place.file) == b"providers.d/10-\xff\xfe.yaml"
