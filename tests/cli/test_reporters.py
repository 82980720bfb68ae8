"""Output formats: golden files for each, SARIF against the official schema, GitHub escaping,
colour only on a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import sys

import jsonschema
import pytest

from flue_decl._codes import RULES
from flue_decl._errors import Diagnostic, Place, Severity
from flue_decl.cli._redact import redact_line
from flue_decl.cli._reporters import GitHubReporter, resolve_format, use_color
from tests.helpers import REPO, run_cli

TREE = REPO / "tests" / "fixtures" / "golden"
GOLDEN = REPO / "tests" / "fixtures" / "golden"
SARIF_SCHEMA = (
    REPO
    / "tests"
    / "sarif"
    / "node_modules"
    / "@microsoft"
    / "jest-sarif"
    / "lib"
    / "schemas"
    / "sarif-2.1.0-rtm.5.json"
)
SECRET = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_golden_output(fmt: str) -> None:
    result = run_cli("validate", "--format", fmt, cwd=TREE)
    assert result.returncode == 1
    assert SECRET not in result.stdout
    golden = GOLDEN / f"validate.{fmt}"
    if os.environ.get("FLUE_DECL_UPDATE_GOLDEN") == "1":
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


def test_sarif_is_valid_sarif_2_1_0() -> None:
    if not SARIF_SCHEMA.exists():
        if os.environ.get("FLUE_DECL_REQUIRE_NODE") == "1":
            pytest.fail("the SARIF schema is not installed (npm ci in tests/sarif)")
        pytest.skip("run `npm ci` in tests/sarif for the SARIF 2.1.0 schema")
    schema = json.loads(SARIF_SCHEMA.read_text())
    log = json.loads(run_cli("validate", "--format", "sarif", cwd=TREE).stdout)
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == list(RULES)  # stable, every rule listed
    for result in log["runs"][0]["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1
        assert region["startColumn"] >= 1
    ok = json.loads(run_cli("validate", "--format", "sarif").stdout)
    jsonschema.validators.validator_for(schema)(schema).validate(ok)
    assert ok["runs"][0]["results"] == []


def test_github_escaping_follows_the_toolkit() -> None:
    out = io.StringIO()
    diag = Diagnostic(
        Severity.ERROR,
        "invalid-value",
        "100% bad\nsecond line",
        file="a,b:c.yaml",
        line=3,
        column=4,
        hint="fix it",
    )
    GitHubReporter(out).report([diag], ok=False, files=1)
    first = out.getvalue().splitlines()[0]
    assert first == (
        "::error file=a%2Cb%3Ac.yaml,line=3,col=4,title=flue-decl invalid-value"
        "::100%25 bad%0Asecond line%0Ahint: fix it"
    )


def test_github_prints_the_total_past_the_annotation_limit() -> None:
    out = io.StringIO()
    diags = [Diagnostic.at("unknown-key", f"k{i}", Place("f.yaml", i + 1, 1)) for i in range(12)]
    GitHubReporter(out).report(diags, ok=False, files=1)
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("flue-decl: failed: 12 errors in 1 file checked")
    assert "first 10" in last


def test_auto_format_is_github_under_actions() -> None:
    assert resolve_format("auto", {"GITHUB_ACTIONS": "true"}) == "github"
    assert resolve_format("auto", {}) == "text"
    result = run_cli("validate", cwd=TREE, env={"GITHUB_ACTIONS": "true"})
    assert result.stdout.startswith("::error file=providers.d/10-ollama.yaml")


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color(Tty(), {}) is True
    assert use_color(Tty(), {"NO_COLOR": "1"}) is False
    assert use_color(Tty(), {"TERM": "dumb"}) is False
    assert use_color(io.StringIO(), {}) is False
    piped = run_cli("validate", cwd=TREE)
    assert "\x1b[" not in piped.stdout


def _run_in_pty(env: dict[str, str]) -> str:
    pid, fd = pty.fork()
    if pid == 0:  # child: the real command line on a terminal
        os.chdir(TREE)
        os.execve(sys.executable, [sys.executable, "-m", "flue_decl", "validate"], env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def test_colour_on_a_real_terminal() -> None:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    base["TERM"] = "xterm"
    assert "\x1b[1;31merror\x1b[0m" in _run_in_pty(base)
    assert "\x1b[" not in _run_in_pty({**base, "NO_COLOR": "1"})


def test_source_lines_never_show_credentials() -> None:
    assert redact_line("apiKey: sk-123") == "apiKey: ***"
    assert redact_line('headers: {Authorization: "Bearer x", X-A: b}') == (
        "headers: {Authorization: ***, X-A: b}"
    )
    assert redact_line('apiKey: "{{ env.KEY }}"') == 'apiKey: "{{ env.KEY }}"'
    assert redact_line("maxTokens: 2048") == "maxTokens: 2048"
    assert redact_line('"x-api-key": abc') == '"x-api-key": ***'
    # A URL's userinfo and credential parameters, whatever key holds it.
    assert redact_line('baseUrl: "https://u:pw@h/v1;token=abc?api_key=hunter2&v=1"') == (
        'baseUrl: "https://***@h/v1;token=***?api_key=***&v=1"'
    )
    assert redact_line('token = ["hunter2hunter2"]') == "token = ***"  # a TOML list


def test_rules_have_a_summary_and_the_docs_document_every_code() -> None:
    checks = (REPO / "docs" / "checks.md").read_text()
    for code, rule in RULES.items():
        assert rule.summary
        assert f"| `{code}` | {rule.severity.value} |" in checks, code


def test_long_source_lines_are_cut_around_the_caret() -> None:
    from flue_decl.cli._reporters import EXCERPT_WIDTH, excerpt

    line = "a: " + "x" * 5000 + "!" + "y" * 5000
    text, caret = excerpt(line, 5004)
    assert len(text) <= EXCERPT_WIDTH + 2
    assert text[caret] == "!"
    assert excerpt("short: line", 8) == ("short: line", 7)
    start, at = excerpt(line, 2)
    assert start.endswith("…")
    assert start[at] == ":"
