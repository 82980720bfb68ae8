"""The benchmark runs (a smoke run: one small size, one repetition; no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .helpers import REPO


def test_benchmark_smoke_run_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--smoke", "--output", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=REPO,
    )
    text = out.read_text()
    assert text.startswith("# flue-decl benchmarks")
    row = next(line for line in text.splitlines() if line.startswith("| 10 |"))
    assert row.count("|") == 18  # 17 columns
    assert "Start-up, fresh processes" in text
    assert "`import flue_decl`" in text
