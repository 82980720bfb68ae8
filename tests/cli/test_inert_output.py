"""Nothing a file says reaches a CI runner or a terminal as a command, in any output.

One hostile tree (legacy ``##[`` workflow commands, ``::`` at a line's start, C1 and
bidirectional controls, DEL, in IDs, model IDs, header values, template defaults and a
file name), every command in every format: no ``##[`` anywhere, no line starting with
``::`` but the annotations flue-decl writes itself, no raw control; and machine formats
still carry the very same values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_files

BIDI_MODEL = "b\u202eidi"
HOSTILE = "##[error]forged \u009b31m \u202e bidi \u2066 iso"  # DEL: refused in headers
TREE = {
    "providers.d/10-##[warning]file.yaml": f"""
kind: Provider
id: p
api: openai-completions
baseUrl: "{{{{ env.P_URL | default('https://p.example/v1') }}}}"
apiKey: "{{{{ env.P_KEY | default('##[add-mask]k') }}}}"
headers:
  X-Note: {json.dumps(HOSTILE)}
  X-Colons: "::error::forged"
models:
  {json.dumps("m##[group]x")}: {{contextWindow: 1}}
  {json.dumps("::warning::m")}: {{contextWindow: 2}}
  {json.dumps(BIDI_MODEL)}: {{contextWindow: 3}}
""",
}
# validate quotes a file's text in its messages: a model ID and a key it does not know.
TREE["bad/10-##[warning]file.yaml"] = (
    "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example/v1\n"
    f"models:\n  {json.dumps('m##[error]forged' + HOSTILE + chr(0x7F))}: {{name: x}}\n"
    f"{json.dumps('::error::forged')}: 1\n"
)
SPECS = ["p/m##[group]x", "p/::warning::m", "p/b\u202eidi"]
RAW_CONTROL = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
ANNOTATION = re.compile(r"::(error|warning|notice) ")

COMMANDS = [
    ["validate", "bad", "--format", "text"],
    ["validate", "bad", "--format", "json"],
    ["validate", "bad", "--format", "github"],
    ["validate", "bad", "--format", "sarif"],
    ["list"],
    ["list", "--format", "json"],
    ["models", "--provider", "p"],
    ["models", "--provider", "p", "--format", "json"],
    ["calls"],
    ["calls", "--show-secrets"],
    ["resolve", *SPECS],
    ["compile"],
    ["emit", "--target", "flue-js"],
    ["emit", "--target", "flue-ts"],
    ["needs"],
    ["needs", "--format", "json"],
    ["needs", "--format", "dotenv"],
    ["needs", "--format", "k8s"],
    ["diff", "providers.d", "providers.d"],
    *(["explain", spec, "-c", "providers.d"] for spec in SPECS),
    *(["explain", spec, "-c", "providers.d", "--format", "json"] for spec in SPECS),
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    write_files(root, TREE)
    return root


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_no_output_obeys_a_file(tree: Path, command: list[str]) -> None:
    result = run_cli(*command, cwd=tree, env={"FLUE_DECL_CACHE": "0"})
    assert result.returncode in (0, 1), result.stderr
    out = result.stdout + result.stderr
    assert "forged" in out or command[0] in ("needs", "diff", "models", "list"), out[:500]
    assert "##[" not in out
    for line in out.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("::"):
            assert command[-1] == "github", line
            assert ANNOTATION.match(stripped), line
    assert not RAW_CONTROL.search(out), RAW_CONTROL.search(out)


def test_machine_formats_keep_the_values_exactly(tree: Path) -> None:
    calls = json.loads(run_cli("calls", "--show-secrets", cwd=tree).stdout)["calls"]
    (registration,) = [c["registration"] for c in calls]
    assert registration["headers"]["X-Note"] == HOSTILE
    assert registration["apiKey"] == "##[add-mask]k"
    assert list(registration["models"]) == ["m##[group]x", "::warning::m", "b\u202eidi"]
    artifact = tree / "registry.json"
    assert run_cli("compile", "-o", str(artifact), cwd=tree).returncode == 0
    assert "##[" not in artifact.read_text(encoding="utf-8")
    from flue_decl import load_artifact

    registry = load_artifact(str(artifact), env={})
    assert (registry.resolve_model(f"p/{BIDI_MODEL}").headers or {})["X-Note"] == HOSTILE


def _outside_code_spans(line: str) -> str:
    """``line`` without its CommonMark code spans: a run of n backticks opens one, closed
    by the next run of exactly n."""
    out, at = [], 0
    while at < len(line):
        if line[at] != "`":
            out.append(line[at])
            at += 1
            continue
        run = len(line[at:]) - len(line[at:].lstrip("`"))
        closing = next(
            (m.start() for m in re.finditer("`+", line[at + run :]) if len(m.group()) == run),
            None,
        )
        if closing is None:  # no span: the backticks are text
            out.append(line[at : at + run])
            at += run
        else:
            at += run + closing + run
    return "".join(out)


MARKDOWN_HOSTILE = "a`b``c | <img src=x onerror=alert(1)> [x](https://evil.example) `"


def test_a_markdown_diff_keeps_every_value_in_its_cell(tmp_path: Path) -> None:
    def tree(value: str, model: str) -> str:
        return (
            "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example/v1\n"
            f"headers: {{X-Note: {json.dumps(value)}}}\n"
            f"models: {{{json.dumps(model)}: {{}}}}\n"
        )

    write_files(
        tmp_path,
        {
            "old/a.yaml": tree("before", "m"),
            "new/a.yaml": tree(MARKDOWN_HOSTILE, "m"),
            "new/b.yaml": tree("x", "`` <b>bold</b> |").replace("id: p", "id: q"),
        },
    )
    result = run_cli("diff", "old", "new", "--format", "markdown", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 2
    for line in rows:
        bare = _outside_code_spans(line)
        assert len(re.findall(r"(?<!\\)\|", bare)) == 5, line  # four cells, no more
    for line in lines:
        bare = _outside_code_spans(line)
        assert "<" not in bare, line
        assert "](" not in bare, line


def test_a_refused_credential_is_never_quoted(tmp_path: Path) -> None:
    """A schema refusal of a credential's value (a key of the wrong type, a credential header
    with a line break) says what is wrong without quoting the value, in every format."""
    write_files(
        tmp_path,
        {
            "providers.d/a.yaml": "kind: Provider\nid: p\napi: openai-completions\n"
            "baseUrl: https://p.example/v1\n"
            "headers:\n  X-Api-Token: |\n    tok-Zx8Kq2Lw9Vb4Nm7Tr1Yp5Hd3\n"
            "  X-Team: \"a\\nb\"\n"
            "apiKey: {nested: sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123}\n"
        },
    )
    for fmt in ("text", "json", "github", "sarif"):
        result = run_cli("validate", "--format", fmt, cwd=tmp_path)
        assert result.returncode == 1
        out = result.stdout + result.stderr
        assert "Zx8Kq2" not in out
        assert "AbCdEf" not in out
        assert "not shown: a credential" in out
        assert "a\\\\nb" in out or "a\\nb" in out  # a plain header's value is still shown


@pytest.mark.parametrize(
    "text",
    [
        # a scanner error on the continuation line of a quoted key
        'apiKey: "sk-proj-AbCdEfGh\n  IjKlMn\\qOpQrStUvWx0123"\n',
        # a control character on the continuation line of a folded credential header
        "headers:\n  X-Api-Token: >-\n    tok-AbCdEf\n    Gh\x01IjKlMnOp\n",
        # a plain multi-line key cut by a syntax error after it
        "apiKey: sk-proj-AbCdEfGh\n  IjKlMnOpQrStUvWx0123\n  bad: [\n",
    ],
)
def test_an_echoed_line_never_shows_part_of_a_credential(tmp_path: Path, text: str) -> None:
    write_files(
        tmp_path,
        {
            "providers.d/a.yaml": "kind: Provider\nid: p\napi: openai-completions\n"
            "baseUrl: https://p.example/v1\n" + text
        },
    )
    for fmt in ("text", "json", "github", "sarif"):
        result = run_cli("validate", "--format", fmt, cwd=tmp_path)
        assert result.returncode == 1, result.stdout + result.stderr
        out = result.stdout + result.stderr
        for part in ("AbCdEf", "IjKlMn", "OpQrSt"):
            assert part not in out, (fmt, out)


def test_hints_that_name_models_from_files_obey_nothing(tree: Path) -> None:
    """Resolution errors and their hints on stderr repeat the caller's specifier and name
    providers and models from files."""
    for command in (
        ["resolve", "q##[error]/m##[group]"],
        ["explain", "q##[error]/m", "-c", "providers.d"],
    ):
        result = run_cli(*command, cwd=tree)
        assert result.returncode == 1, result.stderr
        assert "q##" in result.stdout + result.stderr  # shown, inert
        assert "##[" not in result.stdout + result.stderr
