"""Data-driven: every tests/fixtures/invalid/<case>/ holds a tree and its expected diagnostics.

Each case runs through the Python API and, for the commands that report diagnostics
(validate, check-env), through the real command line with ``--format json``: a mistake
is reported at the same file:line:col both ways. Every code flue-decl knows has a case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flue_decl._codes import RULES
from tests.fixture_harness import CASES, key, run, spec
from tests.helpers import run_cli

IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fixture_diagnostics(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    meta = spec(case)
    assert meta["diagnostics"], "a fixture must expect at least one diagnostic"
    monkeypatch.chdir(case)
    monkeypatch.syspath_prepend(str(case))
    got = run(case, meta)
    assert [key(d) for d in got] == [key(d) for d in meta["diagnostics"]]
    for diag in got:
        assert diag.message
        # literal-secret is an error for compile; foreign-template in a credential
        assert diag.severity is RULES[diag.code].severity or diag.code in (
            "literal-secret",
            "foreign-template",
        )


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if spec(c)["command"] in ("validate", "check-env")],
    ids=[c.name for c in CASES if spec(c)["command"] in ("validate", "check-env")],
)
def test_fixture_through_cli(case: Path) -> None:
    meta = spec(case)
    args = [meta["command"], *meta["paths"], "--format", "json"]
    if "max_file_bytes" in meta["options"]:
        args += ["--max-file-bytes", str(meta["options"]["max_file_bytes"])]
    result = run_cli(*args, cwd=case, env=meta["env"])
    report = json.loads(result.stdout or "{}")
    expected = meta["diagnostics"]
    has_errors = any(d["severity"] == "error" for d in expected)
    reported = [d for d in expected if not d.get("suppressed")]
    io = any(d["code"] in ("input-not-found", "io-error") for d in expected)
    assert result.returncode == (2 if io else 1 if has_errors else 0), result.stderr
    assert report["ok"] is (not has_errors)
    assert [key(d) for d in report["diagnostics"]] == [key(d) for d in expected]
    for diag in report["diagnostics"]:
        assert set(diag) >= {"severity", "code", "message", "file", "line", "column", "path"}
    if not has_errors and meta["command"] == "validate":
        # --strict turns warnings into a failure; notes never fail
        warned = any(d["severity"] == "warning" for d in reported)
        strict = run_cli(*args, "--strict", cwd=case, env=meta["env"]).returncode
        assert strict == (1 if warned else 0)


# Codes whose fixture would be too big to keep in the repository, and where they are tested.
UNFIXTURED = {"too-many-files": "tests/unit/test_discover.py (50,001 files)"}


def test_every_code_has_a_fixture_named_after_it() -> None:
    covered = {d["code"] for case in CASES for d in spec(case)["diagnostics"]}
    assert covered == set(RULES) - set(UNFIXTURED)
    named = set(IDS) - {"every-file-collected", "overlay-layers", "template-construct"}
    assert named == set(RULES) - set(UNFIXTURED), sorted(named ^ set(RULES))
    for case in CASES:
        if case.name in RULES:
            assert case.name in {d["code"] for d in spec(case)["diagnostics"]}, case.name
