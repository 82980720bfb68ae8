"""validate's peak memory stays bounded whatever the files do with aliases.

Each file may expand aliases to just under the per-file node budget; before the alias
budget was the tree's, 32 such files took validate to ~600 MB (and past 1.5 GB with
bigger bombs). Peak RSS of the child process: at most 20x the input plus 100 MiB.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

BOMB = ["x0: &a0 [v, v, v, v, v, v, v, v, v, v]"] + [
    f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 5)
]
HEAD = "kind: Provider\nid: p{n}\napi: openai-completions\nbaseUrl: https://p.example/v1\n"


def peak_rss_bytes(*args: str, cwd: Path) -> tuple[int, str]:
    """Run ``python -m flue_decl ARGS`` in a child of a fresh process: its ru_maxrss is that
    child's alone (RUSAGE_CHILDREN of this test process would include earlier children)."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'flue_decl', *sys.argv[1:]],"
        " capture_output=True, text=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(done.stdout[-2000:])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    ).stdout
    first, _, rest = out.partition("\n")
    return int(first) * 1024, rest  # Linux reports kilobytes


def test_many_alias_bombs_cannot_take_validate_past_its_memory_bound(tmp_path: Path) -> None:
    tree = tmp_path / "providers.d"
    tree.mkdir()
    size = 0
    for n in range(32):
        text = HEAD.format(n=n) + "models:\n" + "".join(f"  {line}\n" for line in BOMB)
        (tree / f"{n:02d}.yaml").write_text(text)
        size += len(text.encode())
    peak, report = peak_rss_bytes("validate", "providers.d", "--no-cache", cwd=tmp_path)
    assert "yaml-too-large" in report  # refused, not expanded
    assert "all files together" in report
    assert peak <= 20 * size + 100 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_one_file_at_the_node_budget_costs_little_more_than_its_value(tmp_path: Path) -> None:
    """An alias bomb just under the per-file budget: its expansion shares the anchor's
    value, and an anchor past 64 nodes is placed at its alias, not node by node."""
    tree = tmp_path / "providers.d"
    tree.mkdir()
    bomb = [*BOMB, f"x5: [{', '.join(['*a3'] * 6)}]"]  # about 170,000 nodes
    text = HEAD.format(n=0) + "models:\n" + "".join(f"  {line}\n" for line in bomb)
    (tree / "a.yaml").write_text(text)
    peak, report = peak_rss_bytes("validate", "providers.d", "--no-cache", cwd=tmp_path)
    assert "yaml-too-large" not in report  # within the budget: read whole, then checked
    assert "wrong-type" in report
    assert peak <= 20 * len(text) + 100 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"


def _write(root: Path, texts: list[str]) -> int:
    """``texts`` as root/providers.d/0.yaml, 1.yaml...; their size in bytes."""
    tree = root / "providers.d"
    tree.mkdir()
    for n, text in enumerate(texts):
        assert len(text.encode()) <= 2**20
        (tree / f"{n}.yaml").write_text(text)
    return sum(len(text.encode()) for text in texts)


def _dense(shape: str, n: int) -> str:
    """A file of ``shape`` just under the 1 MiB file cap (and the node budget)."""
    head = HEAD.format(n=n)
    room = 2**20 - 64 - len(head)
    if shape == "models":  # `{}` is the densest mapping a model may be
        return head + "models:\n" + "".join(f"  m{k}: {{}}\n" for k in range(room // 13))
    if shape == "errors":  # an error in every entry: jsonschema's errors are big objects
        return head + "models:\n" + "".join(f"  m{k}: 1\n" for k in range(room // 12))
    if shape == "sequence":
        return head + "headers:\n" + "- a\n" * 199_000
    if shape == "booleans":  # YAML 1.1 booleans: a text kept for each, and a lint
        return head + "x: [" + ",".join(["on"] * 199_000) + "]\n"
    assert shape == "duplicates"  # a parser diagnostic for every entry
    return head + "x: {" + ",".join(["a: 1"] * 99_000) + "}\n"


@pytest.mark.parametrize(
    ("shape", "files"),
    [("models", 8), ("errors", 4), ("sequence", 4), ("duplicates", 4), ("booleans", 4)],
)
def test_dense_files_without_aliases_stay_within_the_bound(
    tmp_path: Path, shape: str, files: int
) -> None:
    """Files at the size cap, as dense as the node budget lets them be. Before places were
    packed and findings capped these took 1.2x to 4.7x the bound."""
    size = _write(tmp_path, [_dense(shape, n) for n in range(files)])
    peak, report = peak_rss_bytes("validate", "providers.d", "--no-cache", cwd=tmp_path)
    assert ("checked, no problems" in report) == (shape == "models"), report
    assert peak <= 20 * size + 100 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB, {size} bytes"


def _past(shape: str, n: int) -> str:
    """Shapes that cost more than 20 times their size parsed, however they are stored: a
    one-key mapping is 4 bytes of YAML and over 400 bytes in Python."""
    head = HEAD.format(n=n)
    if shape == "one-key maps":
        return head + "x: [" + ",".join(["{a}"] * 99_000) + "]\n"
    if shape == "block maps":
        return head + "headers:\n" + "- a:\n" * 99_000
    if shape == "deep":  # a path of 62 levels for every value while the file is read
        return head + "x: " + "[" * 62 + ",".join(["a"] * 150_000) + "]" * 62 + "\n"
    if shape == "documents":
        return "--- a\n" * 150_000
    assert shape == "aliases"  # deep aliases of small anchors: each node placed anew
    anchor = "&a [" + ",".join(["{a: {b}}"] * 21) + "]"
    return head + "x: " + "[" * 60 + anchor + ",*a" * 3_100 + "]" * 60 + "\n"


@pytest.mark.parametrize(
    ("shape", "files"),
    [("one-key maps", 3), ("block maps", 3), ("deep", 1), ("documents", 2), ("aliases", 1)],
)
def test_files_denser_than_the_bound_are_refused_before_they_pass_it(
    tmp_path: Path, shape: str, files: int
) -> None:
    """Each of these took validate to 2.4x to 3.7x the bound before the tree's budget
    (``compiler/_budget``) charged what the parse builds; now the file that would go past
    it is refused where it does, and an overlay over such a base copies nothing of it."""
    overlay = "".join(
        f"---\nkind: Provider\nid: p{n}\noverlay: true\nmaxTokens: 5\n" for n in range(files)
    )
    size = _write(tmp_path, [*(_past(shape, n) for n in range(files)), overlay])
    peak, report = peak_rss_bytes("validate", "providers.d", "--no-cache", cwd=tmp_path)
    assert "MiB parsed" in report, report  # the tree's budget, not a per-file one
    assert peak <= 20 * size + 100 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB, {size} bytes"
