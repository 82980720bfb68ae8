"""yaml-test-suite, pinned (tests/fixtures/yaml-test-suite/cases.json names its commit): every
case parsed with libyaml and with PyYAML's own scanner (as when PyYAML is installed without
libyaml) gives the same outcome, a value or a refusal with the same codes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from flue_decl._discover import SourceFile
from flue_decl.compiler._parse import parse_text
from tests.helpers import REPO, run_cli, write_files

CASES = REPO / "tests" / "fixtures" / "yaml-test-suite" / "cases.json"

# One child per scanner; the same code reads every case.
_OUTCOMES = textwrap.dedent(
    """\
    import json, sys
    if sys.argv[2] == "without":
        sys.modules["yaml._yaml"] = None  # what an install without libyaml has
    import yaml
    from flue_decl._discover import SourceFile
    from flue_decl.compiler._parse import parse_text
    cases = json.load(open(sys.argv[1], encoding="utf-8"))["cases"]
    out = {}
    for name, case in cases.items():
        parsed = parse_text(case["yaml"], SourceFile("in.yaml", 0))
        codes = sorted({d.code for d in parsed.diagnostics if d.severity.value == "error"})
        out[name] = [repr([d.data for d in parsed.documents]), codes]
    print(json.dumps({"libyaml": yaml.__with_libyaml__, "outcomes": out}))
    """
)


def _outcomes(scanner: str, cases: Path = CASES) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _OUTCOMES, str(cases), scanner],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    assert found["libyaml"] is (scanner == "with")
    return found["outcomes"]  # type: ignore[no-any-return]


def test_the_pinned_suite_is_whole() -> None:
    pinned = json.loads(CASES.read_text(encoding="utf-8"))
    assert pinned["commit"] == "6ad3d2c62885d82fc349026c136ef560838fdf3d"
    assert len(pinned["cases"]) == 402  # none left out: a green over nothing is a red
    assert sum(case["error"] for case in pinned["cases"].values()) == 94


def test_every_case_reads_the_same_with_and_without_libyaml() -> None:
    with_libyaml, without = _outcomes("with"), _outcomes("without")
    assert len(with_libyaml) == len(without) == 402
    differ = {
        name: (with_libyaml[name], without[name])
        for name in with_libyaml
        if with_libyaml[name] != without[name]
    }
    assert differ == {}
    # Not everything refused: the suite's valid cases mostly give values.
    valued = [name for name, (_, codes) in with_libyaml.items() if not codes]
    assert len(valued) >= 200  # 220 today: non-string and duplicate keys are refused too


# Inputs beyond the suite that read differently, or crashed one scanner, before they were
# refused alike (found by review): each must give one outcome with either scanner.
ODD = [
    "{a: ! , b: c}\n",
    "a: ! # c\n",
    "{! : a}\n",
    "a: b\n---\n\ufeffc: d\n",
    "a: b\n\ufeffc: d\n",
    "a: b\n\ufeff# c\n",
    'a: "\\ud800"\n',
    'a: "\\uDFFF"\n',
    'a: "\\U0000D800"\n',
    'a: "\\U00110000"\n',
    "a: ![x] b\n",
    "a: !x[y] b\n",
    "a: |2\n  \tfoo\n",
    '{"a":,b}\n',
    "headers: {X-A: https://x.example/v1?a=1}\n",
]


def test_odd_inputs_read_the_same_with_and_without_libyaml(tmp_path: Path) -> None:
    cases = tmp_path / "odd.json"
    cases.write_text(json.dumps({"cases": {str(n): {"yaml": t} for n, t in enumerate(ODD)}}))
    with_libyaml, without = _outcomes("with", cases), _outcomes("without", cases)
    differ = {
        ODD[int(n)]: (with_libyaml[n], without[n])
        for n in with_libyaml
        if with_libyaml[n] != without[n]
    }
    assert differ == {}


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("apiKey: abc\t\n", 1, 12, "a tab character outside a quoted string"),
        ("headers:\t\n  X-Team: a\n", 1, 9, "a tab character"),
        ("%YAML 1.2#note\n---\nid: x\n", 1, 1, "the directive %YAML"),
        ("models: {a: !!str, b: 1}\n", 1, 13, "a tag holding or directly followed by a"),
        ("tagged: ! text\n", 1, 9, "the non-specific tag `!`"),
        ('apiKey: "\\ud800"\n', 1, 10, "the escape \\ud800 is not a character"),
        ("doc: ># note\n  text\n", 1, 6, "a comment right after a block scalar's header"),
        ("input: [text?, image]\n", 1, 9, "a `?` in an unquoted value"),
    ],
)
def test_constructs_the_two_scanners_read_differently_are_refused_at_their_place(
    text: str, line: int, column: int, words: str
) -> None:
    parsed = parse_text(text, SourceFile("p.yaml", 0))
    assert parsed.documents == ()
    [problem] = [d for d in parsed.diagnostics if d.severity.value == "error"]
    assert (problem.code, problem.line, problem.column) == ("yaml-syntax", line, column)
    assert words in problem.message
    assert problem.hint


@pytest.mark.parametrize(
    "text",
    [
        'apiKey: "a\\tb"\nquoted: "tab\tinside"\n',  # tabs inside quotes
        "id: x  # a comment\twith a tab\n",
        "%YAML 1.2\n---\nid: x\n",
        "doc: |\n  line\n  \tindented by a tab after the indentation\n",
        "baseUrl: https://x.example/v1?a=1\ninput: [text, image]\n",
    ],
)
def test_what_both_scanners_read_alike_is_still_read(text: str, tmp_path: Path) -> None:
    parsed = parse_text(text, SourceFile("p.yaml", 0))
    assert [d for d in parsed.diagnostics if d.severity.value == "error"] == []
    assert len(parsed.documents) == 1


@pytest.mark.parametrize(
    "value",
    ["sk-live-CANARY1\n  \tCANARY2", '"sk-live-CANARY1\n  CANARY2\\ud800"'],
    ids=["tab", "escape"],
)
def test_a_refusal_inside_a_credentials_value_echoes_none_of_it(
    tmp_path: Path, value: str
) -> None:
    write_files(
        tmp_path,
        {
            "providers.d/a.yaml": "kind: Provider\nid: x\napi: openai-completions\n"
            f"baseUrl: https://x.example/v1\napiKey: {value}\n"
        },
    )
    for form in ("text", "json", "github", "sarif"):
        done = run_cli("validate", "--format", form, "providers.d", cwd=tmp_path)
        assert done.returncode == 1
        assert "CANARY" not in done.stdout + done.stderr, form
    text = run_cli("validate", "providers.d", cwd=tmp_path)
    assert "a.yaml:5:1: error[yaml-syntax]" in text.stdout + text.stderr
    assert "(at line 6, in a credential's value)" in text.stdout + text.stderr
