"""Every command through the real command line (``python -m flue_decl``), on real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from flue_decl.runtime import read_artifact
from tests.helpers import REPO, run_cli, write_files

CANARY = "sk-CANARY-5f1d2c"
EXAMPLE_ENV = {
    "ANTHROPIC_API_KEY": CANARY,
    "OPENROUTER_API_KEY": CANARY,
    "ACME_API_KEY": CANARY,
    "OPENAI_API_KEY": CANARY,
}
BAD = {
    "providers.d/10-a.yaml": """
    kind: Provider
    id: ollama
    api: openai-completion
    baseURL: http://localhost:11434/v1
    """,
    "providers.d/20-b.yaml": """
    kind: ProviderConfiguration
    id: antropic
    """,
}


def test_validate_bundled_examples_ok() -> None:
    result = run_cli("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 6 files checked, no problems" in result.stdout


def test_validate_reports_every_problem_in_every_file_at_once(tmp_path: Path) -> None:
    write_files(tmp_path, BAD)
    result = run_cli("validate", cwd=tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if ": error[" in line]
    assert lines == [
        "providers.d/10-a.yaml:3:6: error[unknown-api]: api `openai-completion` is not one of "
        "Pi's APIs, cloudflare-ai-binding, or declared by an ApiProvider document",
        "providers.d/10-a.yaml:4:1: error[unknown-key]: unknown key `baseURL` in a Provider "
        "document",
        "providers.d/20-b.yaml:2:5: error[unknown-provider]: configureProvider targets "
        "`antropic`, which is neither a built-in provider nor registered by a Provider document "
        "(did you mean `anthropic`?)",
    ]
    assert "hint: did you mean `openai-completions`?" in result.stdout
    assert "hint: did you mean `baseUrl`?" in result.stdout
    assert "hint: did you mean `anthropic`?" in result.stdout
    assert "failed: 3 errors in 2 files checked" in result.stdout


def test_validate_json_format(tmp_path: Path) -> None:
    write_files(tmp_path, BAD)
    result = run_cli("validate", "providers.d", "--format", "json", cwd=tmp_path)
    report = json.loads(result.stdout)
    assert report["ok"] is False
    first = report["diagnostics"][0]
    assert {k: first[k] for k in ("severity", "code", "file", "line", "column", "path")} == {
        "severity": "error",
        "code": "unknown-api",
        "file": "providers.d/10-a.yaml",
        "line": 3,
        "column": 6,
        "path": "$.api",
    }


def test_usage_and_io_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("validate", str(tmp_path / "missing")).returncode == 2
    assert run_cli("validate", "--format", "yaml").returncode == 2
    assert run_cli("frobnicate").returncode == 2
    out = run_cli("compile", "-o", str(tmp_path / "no" / "such" / "dir" / "x.json"))
    assert out.returncode == 2
    assert "cannot write" in out.stderr


def test_check_env_lists_every_missing_variable_then_passes() -> None:
    result = run_cli("check-env")
    assert result.returncode == 1
    missing = sorted(
        line.split("`")[1] for line in result.stdout.splitlines() if "[missing-env]" in line
    )
    assert missing == ["ACME_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"]
    assert run_cli("check-env", env=EXAMPLE_ENV).returncode == 0


def test_compile_writes_an_artifact_without_secrets(tmp_path: Path) -> None:
    out = tmp_path / "registry.json"
    result = run_cli("compile", "-o", str(out), env=EXAMPLE_ENV)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert CANARY not in text
    artifact = json.loads(text)
    assert (artifact["format"], artifact["version"]) == ("flue-decl-artifact", 4)
    # start: what loading reads of each call; calls: each payload, a slot for a template
    ops = [(op, target) for op, target, *_ in artifact["start"]]
    assert ops[0] == ("registerApiProvider", "acme-rpc")
    at = ops.index(("registerProvider", "ollama"))
    _, _, flags, templates, credentials = artifact["start"][at]
    assert templates[2:] == [["apiKey"], "{{ env.OLLAMA_API_KEY | default('ollama') }}"]
    assert (flags, credentials) == (0, [["apiKey"]])
    assert artifact["calls"][at]["apiKey"] == 0
    assert len(artifact["calls"]) == len(artifact["start"])
    # sources: a line per call (flue_decl.runtime._sources), against the origins table
    number = [path for path, _ in artifact["files"]].index("providers.d/10-ollama.yaml")
    assert [number, 0, False] in artifact["origins"]
    assert len(artifact["sources"]) == len(artifact["calls"])
    (read,) = [c for c in read_artifact(str(out)) if c.target == "ollama"]
    origin = read.origins["models", "llama3.1:8b", "contextWindow"]
    assert (origin.place.file, origin.place.line, origin.place.column) == (
        "providers.d/10-ollama.yaml",
        18,
        34,
    )
    # deterministic: same input, same bytes
    again = tmp_path / "again.json"
    run_cli("compile", "-o", str(again))
    assert again.read_text() == text


def test_compile_refuses_literal_secrets(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "p.yaml": f"""
        kind: Provider
        id: p
        api: openai-completions
        baseUrl: https://p.example
        apiKey: {CANARY}
    """
        },
    )
    result = run_cli("compile", str(tmp_path / "p.yaml"))
    assert result.returncode == 1
    assert "[literal-secret]" in result.stderr
    assert CANARY not in result.stdout + result.stderr


def test_calls_masks_secrets_unless_asked() -> None:
    masked = run_cli("calls", env=EXAMPLE_ENV)
    assert masked.returncode == 0, masked.stderr
    assert CANARY not in masked.stdout
    calls = json.loads(masked.stdout)["calls"]
    anthropic = next(c for c in calls if c.get("id") == "anthropic")
    assert anthropic == {
        "op": "configureProvider",
        "id": "anthropic",
        "settings": {
            "baseUrl": "https://api.anthropic.com",
            "apiKey": "***",
            "headers": {"X-Gateway-Route": "anthropic"},
        },
    }
    shown = json.loads(run_cli("calls", "--show-secrets", env=EXAMPLE_ENV).stdout)["calls"]
    assert next(c for c in shown if c.get("id") == "anthropic")["settings"]["apiKey"] == CANARY


def test_resolve_output_and_exit_codes() -> None:
    result = run_cli(
        "resolve", "ollama/llama3.1:8b", "openai/gpt-4o", "-c", "providers.d", env=EXAMPLE_ENV
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)["results"]
    assert [r["spec"] for r in results] == ["ollama/llama3.1:8b", "openai/gpt-4o"]
    assert results[0]["model"]["contextWindow"] == 131072
    assert results[0]["apiKey"] == "***"  # the placeholder is a key as far as output goes
    assert results[1]["apiKey"] == "***"
    assert results[1]["storeResponses"] is True
    assert CANARY not in result.stdout
    bad = run_cli("resolve", "ollama/x", "nope", env=EXAMPLE_ENV)
    assert bad.returncode == 1
    assert [r["ok"] for r in json.loads(bad.stdout)["results"]] == [True, False]


@pytest.fixture
def prod_overlay(tmp_path: Path) -> Path:
    """A second layer that raises ollama's default output limit."""
    write_files(
        tmp_path,
        {
            "prod.d/ollama.yaml": """
        kind: Provider
        id: ollama
        overlay: true
        maxTokens: 4096
    """
        },
    )
    return tmp_path / "prod.d"


def test_resolve_with_layers(prod_overlay: Path) -> None:
    result = run_cli(
        "resolve",
        "ollama/qwen2.5-coder:32b",
        "ollama/other",
        "-c",
        "providers.d",
        "-c",
        str(prod_overlay),
        env=EXAMPLE_ENV,
    )
    limits = [r["model"]["maxTokens"] for r in json.loads(result.stdout)["results"]]
    assert limits == [8192, 4096]  # the per-model override still beats the new default


def test_explain_names_file_line_layer_and_key_source(prod_overlay: Path) -> None:
    result = run_cli(
        "explain",
        "ollama/llama3.1:8b",
        "-c",
        "providers.d",
        "-c",
        str(prod_overlay),
        env=EXAMPLE_ENV,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "per-model override  [providers.d/10-ollama.yaml:18, layer 1 (providers.d)]" in out
    assert f"provider default  [{prod_overlay}/ollama.yaml:4, layer 2" in out
    assert "overlay]" in out
    anthropic = run_cli(
        "explain", "anthropic/claude-sonnet-4-5", "--format", "json", env=EXAMPLE_ENV
    )
    fields = {f["field"]: f for f in json.loads(anthropic.stdout)["fields"]}
    assert fields["apiKey"]["value"] == "***"
    assert fields["apiKey"]["file"] == "providers.d/20-anthropic-gateway.yaml"
    assert fields["contextWindow"]["source"].startswith("catalog")
    assert CANARY not in anthropic.stdout
    openai = json.loads(
        run_cli("explain", "openai/gpt-4o", "--format", "json", env=EXAMPLE_ENV).stdout
    )
    key = next(f for f in openai["fields"] if f["field"] == "apiKey")
    assert key["source"] == "environment variable OPENAI_API_KEY"
    assert run_cli("explain", "nope/x", env=EXAMPLE_ENV).returncode == 1


def test_list_shows_providers_and_models() -> None:
    result = run_cli("list")
    assert result.returncode == 0
    assert "openrouter-team  [registered, openai-completions]" in result.stdout
    assert "anthropic/claude-sonnet-4" in result.stdout
    data = json.loads(run_cli("list", "--catalog", "--format", "json").stdout)
    ids = [p["id"] for p in data["providers"]]
    assert "ollama" in ids
    assert "groq" in ids


def test_schema_is_a_valid_draft_2020_12_schema_that_accepts_the_examples() -> None:
    import yaml

    result = run_cli("schema")
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((REPO / "providers.d").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            assert not list(validator.iter_errors(doc)), path
    assert list(validator.iter_errors({"kind": "Provider", "id": "x", "baseURL": "a"}))


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["check-env"],
        ["calls"],
        ["list"],
        ["compile"],
        ["resolve", "ollama/x", "anthropic/claude-sonnet-4-5"],
        ["explain", "anthropic/claude-sonnet-4-5"],
    ],
)
def test_canary_never_printed(command: list[str], tmp_path: Path) -> None:
    # good tree with the canary in the environment, and a bad tree holding it literally
    good = run_cli(*command, env=EXAMPLE_ENV)
    assert CANARY not in good.stdout + good.stderr
    write_files(
        tmp_path,
        {
            "providers.d/p.yaml": f"""
        kind: Provider
        id: p
        api: openai-completions
        baseUrl: http://gpu.lan/v1
        apiKey: "{CANARY}"
        headers: {{Authorization: "Bearer {CANARY}", X-Bad: 12}}
    """
        },
    )
    bad = run_cli(*command, cwd=tmp_path, env=EXAMPLE_ENV)
    assert bad.returncode != 0
    assert CANARY not in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stderr


def test_version_and_module_entry_point() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("flue-decl ")


def test_a_bug_is_an_internal_error_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flue_decl.cli import _validate, main

    def broken(args: object) -> int:
        raise RuntimeError(f"boom {CANARY}")

    monkeypatch.setattr(_validate, "run", broken)
    monkeypatch.delenv("FLUE_DECL_DEBUG", raising=False)
    assert main(["validate"]) == 70
    err = capsys.readouterr().err
    assert "internal error (RuntimeError)" in err
    assert CANARY not in err
    assert "Traceback" not in err


def test_list_and_explain_print_nothing_a_terminal_or_ci_runner_would_obey(
    tmp_path: Path,
) -> None:
    tree = tmp_path / "providers.d"
    tree.mkdir()
    (tree / "10-evil\n::warning::x\x1b[31m.yaml").write_text(
        "kind: Provider\nid: '::error::FORGED'\napi: openai-completions\n"
        "baseUrl: https://p.example/v1\nmodels: {'m\\x1b[2J': {maxTokens: 1}}\n"
    )
    for args in (["list", str(tree)], ["explain", "::error::FORGED/m", "-c", str(tree)]):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout
        assert not [line for line in result.stdout.splitlines() if line.lstrip().startswith("::")]
        assert "FORGED" in result.stdout


def test_check_handlers_imports_in_a_child_and_reports_at_the_place(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "providers.d/10-a.yaml": """
                kind: ApiProvider
                api: acme-rpc
                handler: acme_llm.protocols:AcmeRpc
                ---
                kind: ApiProvider
                api: typo
                handler: acme_llm.protocol:AcmeRpc
                ---
                kind: ApiProvider
                api: hangs
                handler: slow_handlers:H
                ---
                kind: ApiProvider
                api: exits
                handler: unittest.__main__:main
            """,
            "lib/slow_handlers.py": "import time\ntime.sleep(30)\n",
            "test_pwn.py": "import pathlib\npathlib.Path('marker').write_text('ran')\n",
        },
    )
    env = {"PYTHONPATH": f"{REPO / 'examples'}:{tmp_path / 'lib'}"}
    result = run_cli(
        "check-handlers", "--handler-modules", "acme_llm", "--format", "json", cwd=tmp_path, env=env
    )
    assert result.returncode == 1, result.stderr
    found = [(d["code"], d["line"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert found == [
        ("handler-import", 7),
        ("handler-not-allowed", 11),
        ("handler-not-allowed", 15),
    ]
    assert not (tmp_path / "marker").exists()  # refused: never imported, not even in the child
    result = run_cli(
        "check-handlers",
        "--handler-modules",
        "acme_llm.protocols,slow_handlers,unittest",
        "--timeout",
        "3",
        "--format",
        "json",
        cwd=tmp_path,
        env=env,
    )
    found = [(d["line"], d["message"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert [line for line, _ in found] == [7, 11, 15]
    assert "not under an allowed module" in found[0][1]  # acme_llm.protocol: another module
    assert "importing it did not finish within 3 s" in found[1][1]
    assert "not checked" in found[2][1]
    write_files(tmp_path, {"lib/slow_handlers.py": "H = None\n"})
    result = run_cli(
        "check-handlers",
        "--handler-modules",
        "acme_llm,slow_handlers,unittest",
        "--format",
        "json",
        cwd=tmp_path,
        env=env,
    )
    found = [(d["line"], d["message"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert [line for line, _ in found] == [7, 11, 15]
    assert "ModuleNotFoundError" in found[0][1]
    assert "WireProtocol" in found[1][1]
    assert "SystemExit" in found[2][1]
    assert "--timeout" in run_cli("check-handlers", "--timeout", "nan", cwd=tmp_path).stderr


def test_a_provider_registered_in_code_can_be_declared_known(tmp_path: Path) -> None:
    from flue_decl import compile_paths, load_registry

    write_files(
        tmp_path,
        {
            "providers.d/10-a.yaml": "kind: ProviderConfiguration\nid: in-house\nbaseUrl: https://x.example/v1\n"
        },
    )
    tree = str(tmp_path / "providers.d")
    assert [d.code for d in compile_paths([tree]).diagnostics] == ["unknown-provider"]
    assert compile_paths([tree], known_providers=["in-house"]).ok
    registry = load_registry([tree], env={}, known_providers=["in-house"])
    registry.register_provider("in-house", {"api": "openai-completions", "baseUrl": "https://y/v1"})
    assert registry.resolve_model("in-house/m").base_url == "https://x.example/v1"  # configured
    # The command line, the cache keyed by the declaration too.
    assert run_cli("validate", cwd=tmp_path).returncode == 1
    assert run_cli("validate", "--known-provider", "in-house", cwd=tmp_path).returncode == 0
    assert run_cli("validate", cwd=tmp_path).returncode == 1  # not answered from that cache entry
    assert run_cli("compile", "--known-provider", "in-house", cwd=tmp_path).returncode == 0


def test_models_lists_every_resolvable_id_with_its_limits_and_source() -> None:
    result = run_cli("models", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {r["spec"]: r for r in json.loads(result.stdout)["models"]}
    assert rows["ollama/llama3.1:8b"]["contextWindow"] == 131072
    assert rows["ollama/llama3.1:8b"]["source"].startswith("per-model override, providers.d/")
    assert rows["ollama/*"]["source"].startswith("registration defaults")
    assert rows["anthropic/claude-sonnet-4-5"]["source"] == "catalog"  # a configured built-in
    assert not any(spec.startswith("groq/") for spec in rows)
    groq = json.loads(run_cli("models", "--provider", "groq", "--format", "json").stdout)
    assert groq["models"]
    assert all(r["spec"].startswith("groq/") for r in groq["models"])


def test_list_json_gives_every_provider_the_same_shape() -> None:
    result = run_cli("list", "--catalog", "--format", "json")
    providers = [p for p in json.loads(result.stdout)["providers"] if p["kind"] != "api"]
    keys = {frozenset(k for k in p if k != "binding") for p in providers}
    assert len(keys) == 1, keys
    openai = next(p for p in providers if p["id"] == "openai")
    assert openai["storeResponses"] is True
    assert isinstance(openai["models"], dict)
    assert openai["models"]["gpt-4o"]["contextWindow"] > 0


def test_an_unknown_catalog_model_gets_a_did_you_mean_without_changing_the_runtime_text() -> None:
    env = {"ANTHROPIC_API_KEY": "x", "OPENROUTER_API_KEY": "x", "ACME_API_KEY": "x"}
    result = run_cli("resolve", "anthropic/claude-sonnet-4.5", env=env)
    assert result.returncode == 1
    (answer,) = json.loads(result.stdout)["results"]
    assert answer["error"].startswith(
        '[flue] Unknown model specifier "anthropic/claude-sonnet-4.5"'
    )
    assert "did you mean `anthropic/claude-sonnet-4-5`" in result.stderr  # the closest first
    explained = run_cli("explain", "anthropic/claude-sonnet-4.5", env=env)
    assert "did you mean `anthropic/claude-sonnet-4-5`" in explained.stderr


def test_every_argument_of_every_command_has_help() -> None:
    import argparse

    from flue_decl.cli._parser import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [
        f"{name} {action.dest}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        if not action.help and not isinstance(action, argparse._HelpAction)
    ]
    assert missing == []


def test_a_command_parsed_alone_is_parsed_as_in_the_whole_command_line() -> None:
    """``parse`` builds only the named command's options: its help, usage and choices must
    be those of the full parser's."""
    import argparse

    from flue_decl.cli._parser import COMMANDS, build_parser

    def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return dict(sub.choices)

    whole = commands(build_parser())
    assert list(whole) == list(COMMANDS)
    for name in COMMANDS:
        alone = commands(build_parser(name))
        assert list(alone) == [name]
        assert alone[name].format_help() == whole[name].format_help(), name
        assert [_described(a) for a in alone[name]._actions] == [
            _described(a) for a in whole[name]._actions
        ], name


def _described(action: Any) -> tuple[Any, ...]:
    kept = ("option_strings", "dest", "nargs", "const", "default", "choices", "required")
    return (type(action), getattr(action.type, "__name__", None), *map(vars(action).get, kept))


def test_resolve_and_explain_take_paths_like_every_command(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "base/a.yaml": "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example/v1\n",
            "over/b.yaml": "kind: Provider\nid: p\noverlay: true\nmaxTokens: 77\n",
        },
    )
    for args in (["base", "over"], ["-c", "base", "-c", "over"]):
        result = run_cli("resolve", "p/m", *args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["results"][0]["model"]["maxTokens"] == 77
        explained = run_cli("explain", "p/m", *args, "--format", "json", cwd=tmp_path)
        assert explained.returncode == 0, explained.stderr


def test_explain_gives_each_header_its_origin_and_every_value_whole(tmp_path: Path) -> None:
    long_value = "v" * 150
    write_files(
        tmp_path,
        {
            "base/a.yaml": "kind: ProviderConfiguration\nid: openai\nheaders:\n"
            f"  OpenAI-Organization: org-1\n  X-Long: {long_value}\n",
            "over/b.yaml": "kind: ProviderConfiguration\nid: openai\noverlay: true\n"
            "headers:\n  X-Team: search\n",
        },
    )
    result = run_cli("explain", "openai/gpt-4o", "base", "over", "--format", "json", cwd=tmp_path)
    fields = {f["field"]: f for f in json.loads(result.stdout)["fields"]}
    assert (
        fields["headers.OpenAI-Organization"]["file"],
        fields["headers.OpenAI-Organization"]["line"],
    ) == ("base/a.yaml", 4)
    assert (fields["headers.X-Team"]["file"], fields["headers.X-Team"]["overlay"]) == (
        "over/b.yaml",
        True,
    )
    assert fields["headers.X-Long"]["value"] == long_value
    text = run_cli("explain", "openai/gpt-4o", "base", "over", cwd=tmp_path).stdout
    assert (
        "".join(line.strip().strip('"') for line in text.splitlines() if "vvv" in line).count("v")
        == 150
    )


def test_emit_writes_a_module_without_any_value_or_secret(tmp_path: Path) -> None:
    env = {"ANTHROPIC_API_KEY": "sk-ant-CANARY-0123456789", "OLLAMA_URL": "http://gpu:1/v1"}
    out = tmp_path / "providers.mjs"
    result = run_cli("emit", "--target", "flue-js", "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "CANARY" not in text
    assert "gpu:1" not in text  # templates stay templates: rendered in the app
    assert text.startswith("// Generated by flue-decl")
    assert '"providers.d/10-ollama.yaml"  sha256:' in text
    assert 'from "@flue/runtime"' in text
    assert not list(tmp_path.glob("providers.mjs.tmp-*"))
    ts = run_cli("emit", "--target", "flue-ts", env=env)
    assert "export interface ApplyOptions" in ts.stdout
    # A literal key would be carried in the module: refused, as compile refuses it.
    write_files(
        tmp_path,
        {
            "lit/a.yaml": "kind: ProviderConfiguration\nid: openai\n"
            "apiKey: sk-proj-Zx8Kq2Lw9Vb4Nm7Tr1Yp5Hd3\n"
        },
    )
    refused = run_cli("emit", "lit", "--target", "flue-js", cwd=tmp_path)
    assert refused.returncode == 1
    assert "literal-secret" in refused.stderr
    assert "Zx8Kq2" not in refused.stdout + refused.stderr
    unwritable = run_cli("emit", "--target", "flue-js", "-o", str(tmp_path / "no" / "x.mjs"))
    assert unwritable.returncode == 2


def test_no_output_line_carries_the_legacy_workflow_command(tmp_path: Path) -> None:
    # GitHub's runner obeys `##[command]` anywhere in a line, not only at its start.
    tree = tmp_path / "providers.d"
    tree.mkdir()
    (tree / "a.yaml").write_text(
        "kind: Provider\nid: 'x##[add-mask]FORGED'\napi: openai-completions\n"
        "baseUrl: https://p.example/v1\nbogus: '##[error]FORGED'\n"
    )
    checked = run_cli("validate", "--format", "text", str(tree), cwd=tmp_path)
    assert checked.returncode == 1
    assert "FORGED" in checked.stdout + checked.stderr
    assert "##[" not in checked.stdout + checked.stderr
    (tree / "a.yaml").write_text(
        "kind: Provider\nid: 'x##[add-mask]FORGED'\napi: openai-completions\n"
        "baseUrl: https://p.example/v1\n"
    )
    listed = run_cli("list", str(tree), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "FORGED" in listed.stdout
    assert "##[" not in listed.stdout
