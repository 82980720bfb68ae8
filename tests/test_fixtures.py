"""Data-driven: every tests/fixtures/invalid/<case>/ holds a tree and its expected diagnostics.

Each case is checked through the Python pipeline and through the real command
line (``validate --format json``), so a mistake is reported at the same
file:line:col both ways.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flue_decl import compile_paths

from .helpers import run_cli

CASES = sorted(p for p in (Path(__file__).parent / "fixtures" / "invalid").iterdir() if p.is_dir())


def _expected(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((case / "expected.json").read_text())
    return data


def _key(d: dict[str, Any]) -> tuple[Any, ...]:
    return (d["code"], d["file"], d["line"], d["column"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_diagnostics(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _expected(case)
    assert expected["diagnostics"], "a fixture must expect at least one diagnostic"
    monkeypatch.chdir(case)
    got = compile_paths(expected["paths"]).diagnostics
    assert [(d.code, d.file, d.line, d.column) for d in got] == [
        _key(d) for d in expected["diagnostics"]
    ]
    assert all(d.message and d.severity.value == "error" for d in got)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_through_cli(case: Path) -> None:
    expected = _expected(case)
    result = run_cli("validate", *expected["paths"], "--format", "json", cwd=case)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [_key(d) for d in report["diagnostics"]] == [_key(d) for d in expected["diagnostics"]]
    for diag in report["diagnostics"]:
        assert set(diag) >= {"severity", "code", "message", "file", "line", "column", "path"}


def test_case_directory_names_the_code_it_covers() -> None:
    # Most cases are named after the code they pin down; keep them honest.
    for case in CASES:
        codes = {d["code"] for d in _expected(case)["diagnostics"]}
        if case.name not in ("every-file-collected", "overlay-layers"):
            assert case.name in codes, f"{case.name} does not produce {case.name}"
