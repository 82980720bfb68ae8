"""A known key planted in the environment and in files must never come out: not on stdout or
stderr of any command, in any format, on success or failure, nor in what is written to disk,
nor in repr/str/errors/pickles of the Python objects."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from flue_decl import ConfigError, Registry, Secret, TemplateError, load_registry
from tests.helpers import run_cli, write_files

CANARY = "sk-ant-CANARY-7d1e9f0a2b3c4d5e6f"
ENV = {
    "ANTHROPIC_API_KEY": CANARY,
    "OPENROUTER_API_KEY": CANARY,
    "ACME_API_KEY": CANARY,
    "OPENAI_API_KEY": CANARY,
    "OLLAMA_API_KEY": CANARY,
    # Credentials by other roads: a header filled from a secret-named variable, a
    # credential query parameter, a URL path filled from a secret.
    "SESSION_TOKEN": CANARY,
    "QUERY_VALUE": CANARY,
    "TENANT_SECRET": CANARY,
}

GOOD = {
    "providers.d/10-p.yaml": """
        kind: Provider
        id: p
        api: openai-completions
        baseUrl: https://p.example/v1
        apiKey: "{{ env.ANTHROPIC_API_KEY }}"
        headers: {Authorization: "Bearer {{ env.OPENAI_API_KEY }}", X-Team: t}
        ---
        kind: ProviderConfiguration
        id: anthropic
        apiKey: "{{ env.ANTHROPIC_API_KEY }}"
    """,
}
BAD = {
    # literal canary, a canary over plain http, a canary with a newline, schema errors
    "providers.d/10-p.yaml": f"""
        kind: Provider
        id: p
        api: openai-completion
        baseUrl: http://gpu.lan/v1
        apiKey: "{CANARY}"
        headers: {{Authorization: "Bearer {CANARY}", X-Bad: 12}}
        ---
        kind: ProviderConfiguration
        id: anthropic
        apiKey: "{{{{ env.BROKEN }}}}\\n{CANARY}"
        baseUrl: "{CANARY}"
    """,
}
OTHER_ROADS = {
    "providers.d/10-p.yaml": """
        kind: Provider
        id: q
        api: openai-completions
        baseUrl: "https://q.example/v1?api-version=2024&key={{ env.QUERY_VALUE }}"
        headers: {X-Custom: "{{ env.SESSION_TOKEN }}", X-Team: t}
        apiKey: placeholder
        models: {m: {}}
        ---
        kind: Provider
        id: r
        api: openai-completions
        baseUrl: "https://r.example/{{ env.TENANT_SECRET }}/v1"
        apiKey: placeholder
        ---
        kind: ProviderConfiguration
        id: openai
        baseUrl: "https://gw.example/v1?access_token={{ env.QUERY_VALUE }}"
        apiKey: placeholder
    """,
}
# Each replace multiplies the key's dashes by ten: rendered, it is too long to use.
GROW = " | replace('-', '----------')" * 5
RENDER_FAIL = {
    "providers.d/10-p.yaml": """
        kind: ProviderConfiguration
        id: anthropic
        apiKey: "{{ env.WITH_NEWLINE }}"
        headers: {X-Api-Key: "{{ env.ANTHROPIC_API_KEY GROW }}"}
    """.replace("GROW", GROW),
}

COMMANDS = [
    ["validate"],
    ["validate", "--format", "json"],
    ["validate", "--format", "github"],
    ["validate", "--format", "sarif"],
    ["validate", "--strict"],
    ["check-env"],
    ["check-env", "--format", "json"],
    ["calls"],
    ["list"],
    ["list", "--format", "json"],
    ["compile"],
    ["resolve", "p/m", "anthropic/claude-sonnet-4-5", "openai/gpt-4o"],
    ["resolve", "q/m", "r/m", "openai/gpt-4o", "--format", "json"],
    ["explain", "p/m"],
    ["explain", "q/m"],
    ["explain", "r/m", "--format", "json"],
    ["explain", "openai/gpt-4o"],
    ["explain", "anthropic/claude-sonnet-4-5", "--format", "json"],
    ["diff", "providers.d", "other.d"],
    ["diff", "providers.d", "other.d", "--format", "json"],
    ["diff", "providers.d", "other.d", "--format", "markdown"],
]


@pytest.mark.parametrize(
    "tree",
    [GOOD, BAD, RENDER_FAIL, OTHER_ROADS],
    ids=["good", "bad", "render-fail", "other-roads"],
)
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_canary_never_printed(tree: dict[str, str], command: list[str], tmp_path: Path) -> None:
    write_files(tmp_path, tree)
    write_files(tmp_path, {"other.d/x.yaml": "kind: ProviderConfiguration\nid: openai\n"})
    env = {**ENV, "WITH_NEWLINE": f"{CANARY}\nX-Evil: 1"}
    result = run_cli(*command, cwd=tmp_path, env=env)
    assert CANARY not in result.stdout
    assert CANARY not in result.stderr
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1, 2)


@pytest.mark.parametrize("tree", [GOOD, BAD, OTHER_ROADS], ids=["good", "bad", "other-roads"])
def test_written_artifact_never_holds_a_secret(tree: dict[str, str], tmp_path: Path) -> None:
    write_files(tmp_path, tree)
    out = tmp_path / "registry.json"
    result = run_cli("compile", "-o", str(out), cwd=tmp_path, env=ENV)
    written = out.read_text() if out.exists() else ""
    assert CANARY not in written + result.stdout + result.stderr
    assert not list(tmp_path.glob("registry.json.tmp-*"))


def test_python_objects_never_show_the_key(tmp_path: Path) -> None:
    write_files(tmp_path, GOOD)
    registry = load_registry([str(tmp_path / "providers.d")], env=ENV)
    model = registry.resolve_model("p/m")
    shown = [
        repr(registry),
        str(registry),
        repr(model),
        str(model),
        repr(registry.registration("p")),
        repr(registry.settings("anthropic")),
        repr(Secret(CANARY)),
        f"{Secret(CANARY)}",
        str(Secret(CANARY)),
    ]
    assert not [s for s in shown if CANARY in s]
    for obj in (registry, model, Secret(CANARY)):
        with pytest.raises(TypeError):
            pickle.dumps(obj)
    assert registry.api_key("p/m") == CANARY  # handed out only where asked for
    assert model.headers is not None
    assert model.headers["Authorization"] == f"Bearer {CANARY}"


def test_credentials_by_other_roads_never_show(tmp_path: Path) -> None:
    write_files(tmp_path, OTHER_ROADS)
    registry = load_registry([str(tmp_path / "providers.d")], env=ENV)
    shown = []
    for spec in ("q/m", "r/m", "openai/gpt-4o"):
        model = registry.resolve_model(spec)
        shown += [repr(model), str(model.masked())]
        with registry.http_client(spec) as client:
            shown += [repr(client), repr(client.headers), repr(client.auth)]
            if spec != "r/m":  # a secret in the path is in the URL httpx requests, of course
                shown.append(str(client.base_url))
    shown += [repr(registry.registration("q")), repr(registry.settings("openai"))]
    assert not [s for s in shown if CANARY in s]
    q = registry.resolve_model("q/m")
    assert q.masked()["baseUrl"] == "https://q.example/v1?api-version=2024&key=***"
    assert q.masked()["headers"] == {"X-Custom": "***", "X-Team": "t"}
    assert registry.resolve_model("r/m").masked()["baseUrl"] == "***"
    # ... and the values are there for the request itself.
    assert q.to_dict()["headers"]["X-Custom"] == CANARY
    assert q.base_url.endswith(f"key={CANARY}")


def test_errors_never_show_the_key(tmp_path: Path) -> None:
    write_files(tmp_path, RENDER_FAIL)
    with pytest.raises(TemplateError) as info:
        load_registry([str(tmp_path / "providers.d")], env={**ENV, "WITH_NEWLINE": f"{CANARY}\n"})
    error: ConfigError = info.value
    text = str(error) + repr(error) + repr(error.diagnostics) + str(error.args)
    assert CANARY not in text
    assert "WITH_NEWLINE" in text  # names the variable, never its value
    by_hand = Registry(env={})
    by_hand.register_provider(
        "x", {"api": "openai-completions", "baseUrl": "https://x", "apiKey": CANARY}
    )
    assert CANARY not in repr(by_hand) + repr(by_hand.registration("x"))


def test_a_registry_inside_other_objects_is_never_written(tmp_path: Path) -> None:
    from flue_decl import watch

    write_files(tmp_path, GOOD)
    tree = str(tmp_path / "providers.d")
    registry = load_registry([tree], env=ENV)
    watcher = watch([tree], env=ENV)
    snapshot = watcher.snapshot()
    out = tmp_path / "dump.pickle"
    padding = ["x" * 1000] * 200  # more than a pickle frame: written before the refusal
    for holder in ([padding, registry], {"snap": snapshot}, (padding, {"r": [registry]})):
        with out.open("wb") as fh, pytest.raises(TypeError):
            pickle.dump(holder, fh)
        assert CANARY.encode() not in out.read_bytes()
    assert CANARY not in repr(vars(registry)) + repr(snapshot)
