"""The benchmark runs (a smoke run: one small size, one repetition; no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO


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
    assert row.count("|") == 28  # 27 columns: ajv-cli, the event parse, one process among them
    assert "| validate / ajv-cli |" in text
    assert "Start-up, fresh processes" in text
    assert "`import flue_decl`" in text
    # Request threads with and without reloads, side by side.
    reload_row = [
        line for line in text.split("Reloads (", 1)[1].splitlines() if line.startswith("| 10 |")
    ]
    assert len(reload_row) == 1
    assert reload_row[0].count("|") == 12  # 11 columns


def test_the_report_checks_each_target_against_the_1000_file_row() -> None:
    from bench.run import targets

    row = {
        "files": 1000,
        "validate": 1.0,
        "check_jsonschema": 5.0,
        "floor": 1.0,
        "warm_validate": 0.2,
        "load_artifact": 0.05,
        "compile": 1.0,
        "resolve_ns": 20.0,
        "resolve_ref_ns": 100.0,
    }
    big = {**row, "files": 10000, "validate": 10.0, "compile": 12.0}
    lines = targets([row, big])
    assert "- cold validate / check-jsonschema: 0.20x (target ≤ 0.25x): met" in lines
    assert "- warm validate / cold validate: 0.20x (target ≤ 0.08x): NOT met" in lines
    assert "- cold validate / ajv-cli: n/a (target ≤ 0.8x): n/a" in lines
    assert "- cold validate / bare event parse: n/a (target ≤ 3.0x): n/a" in lines
    timed = targets([{**row, "ajv": 2.0, "events": 0.25}])
    assert "- cold validate / ajv-cli: 0.50x (target ≤ 0.8x): met" in timed
    assert "- cold validate / bare event parse: 4.00x (target ≤ 3.0x): NOT met" in timed
    assert lines[-1] == (
        "- growth from 1,000 to 10,000 files (linear is 10x): validate 10.0x, compile 12.0x"
    )
    sized = {**big, "bytes": 10e6, "validate_peak_kb": 140e3, "artifact_bytes": 16e6}
    sized["validate_one_peak_kb"] = 150e3
    measured = targets([row, sized])
    assert "- at 10,000 files, validate peak RSS / input: 14.34 (target ≤ 15.0): met" in measured
    assert (
        "- at 10,000 files, validate peak RSS / input, one process: 15.36 (target ≤ 15.0): "
        "NOT met" in measured
    )
    assert "- at 10,000 files, artifact / input: 1.60 (target ≤ 1.5): NOT met" in measured
    assert "- at 10,000 files, compile peak RSS / input: 0.00 (target ≤ 15.0): n/a" in measured
    assert targets([{**row, "files": 10}]) == []
    paused = {**row, "reload": {"reloads": {"full_max_ms": 95.2}}}
    assert targets([paused])[-1] == (
        "- longest full collection while reloading (ms): 95.20 (target ≤ 20.0): NOT met"
    )
