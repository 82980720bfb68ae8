"""flue-decl against the real runtime: every specifier of every generated tree.

Each tree is written to disk, compiled and loaded by flue-decl exactly as a
user would, and its meaning (the expected registry calls, built by the
generator) is replayed in @flue/runtime 0.11.1. Every result must be equal:
ok or not, the error text, the model JSON, the API key, storeResponses.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from flue_decl import Registry, compile_paths, load_registry
from flue_decl._jsjson import dumps
from flue_decl.runtime import build_registry, render_calls
from flue_decl.views import resolve_result
from tests.helpers import examples

from .generate import Tree, trees
from .oracle import ReplayServer, replay_once

EXAMPLES = int(os.environ.get("FLUE_DECL_CONFORMANCE_EXAMPLES", examples(1000)))
REPO = Path(__file__).resolve().parents[2]


def write_tree(tree: Tree, root: Path) -> list[str]:
    for rel, raw in tree.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
    for layer in tree.layers:
        (root / layer).mkdir(exist_ok=True)
    return [str(root / layer) for layer in tree.layers]


def registry_of(paths: list[str], env: dict[str, str]) -> Registry:
    """The tree's registry as a service loads it. A tree without documents is refused
    (``no-documents``); what it means, the built-ins alone, is still compared."""
    if compile_paths(paths, allow_empty=True).documents:
        return load_registry(paths, env=env, import_handlers=False)
    assert [d.code for d in compile_paths(paths).errors] == ["no-documents"]
    return build_registry((), env=env, import_handlers=False)


def ours(paths: list[str], env: dict[str, str], specs: list[str]) -> list[dict[str, Any]]:
    registry = registry_of(paths, env)
    return [resolve_result(registry, spec, show_secrets=True) for spec in specs]


def check_tree(tree: Tree, oracle: ReplayServer) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_tree(tree, Path(tmp))
        compilation = compile_paths(paths, allow_empty=True)
        assert compilation.ok, [str(d) for d in compilation.diagnostics]
        rendered, problems = render_calls(compilation.calls, tree.env)
        assert not problems, [str(d) for d in problems]
        # The tree means exactly the calls it was built from, in call order.
        assert [c.to_replay(show_secrets=True) for c in rendered] == tree.expected_calls
        mine = ours(paths, tree.env, tree.specs)
    reference = oracle.run({"env": tree.env, "calls": tree.expected_calls, "resolve": tree.specs})[
        "results"
    ]
    for got, want in zip(mine, reference, strict=True):
        assert got == want, f"{want['spec']}: flue-decl and the reference disagree"
    # The same text: key order (array-index keys first) and number spelling included.
    assert dumps({"results": mine}, indent=None) == oracle.last_line


def test_generated_trees_match_the_reference(oracle: ReplayServer) -> None:
    passed = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(trees())
    def run(tree: Tree) -> None:
        nonlocal passed
        check_tree(tree, oracle)
        passed += 1

    run()
    assert passed >= EXAMPLES


@pytest.mark.parametrize(
    ("name", "calls", "env", "specs"),
    [
        (
            "contract example: registered ollama with per-model override",
            [
                {
                    "op": "registerProvider",
                    "id": "ollama",
                    "registration": {
                        "api": "openai-completions",
                        "baseUrl": "http://localhost:11434/v1",
                        "apiKey": "",
                        "headers": {"X-Team": "search"},
                        "contextWindow": 8192,
                        "maxTokens": 2048,
                        "models": {"llama3.1:8b": {"contextWindow": 131072}},
                    },
                }
            ],
            {},
            ["ollama/llama3.1:8b", "ollama/other", "ollama/", "ollama"],
        ),
        (
            "configure a built-in: baseUrl, merged headers, key, store",
            [
                {
                    "op": "configureProvider",
                    "id": "openai",
                    "settings": {
                        "baseUrl": "https://gw.example/v1",
                        "headers": {"X-A": "1"},
                        "apiKey": "k",
                        "storeResponses": True,
                    },
                }
            ],
            {"OPENAI_API_KEY": "env-key"},
            ["openai/gpt-4o", "openai/gpt-4o-mini", "openai/nope"],
        ),
        (
            "empty env var falls through, empty configured key does not",
            [{"op": "configureProvider", "id": "groq", "settings": {"apiKey": ""}}],
            {"ANTHROPIC_OAUTH_TOKEN": "", "ANTHROPIC_API_KEY": "a", "GROQ_API_KEY": "g"},
            ["anthropic/claude-sonnet-4-5", "groq/llama-3.3-70b-versatile"],
        ),
        (
            "bedrock and vertex SDK credentials",
            [],
            {
                "AWS_PROFILE": "dev",
                "GOOGLE_CLOUD_PROJECT": "p",
                "GOOGLE_CLOUD_LOCATION": "l",
                "GOOGLE_APPLICATION_CREDENTIALS": "/etc/hostname",
            },
            [
                "amazon-bedrock/amazon.nova-lite-v1:0",
                "google-vertex/gemini-2.5-flash",
            ],
        ),
        (
            "cloudflare binding: catalog model, unknown model, gateway false",
            [
                {
                    "op": "registerProvider",
                    "id": "cf",
                    "registration": {
                        "api": "cloudflare-ai-binding",
                        "binding": "AI",
                        "gateway": False,
                    },
                }
            ],
            {"CLOUDFLARE_API_KEY": "c"},
            ["cf/@cf/meta/llama-3.3-70b-instruct-fp8-fast", "cf/@cf/unknown/x", "cf/"],
        ),
        (
            "registered wins over the catalog; last write wins",
            [
                {
                    "op": "registerProvider",
                    "id": "anthropic",
                    "registration": {"api": "openai-completions", "baseUrl": "https://a.example"},
                },
                {
                    "op": "registerProvider",
                    "id": "anthropic",
                    "registration": {
                        "api": "anthropic-messages",
                        "baseUrl": "https://b.example",
                        "maxTokens": 5,
                    },
                },
            ],
            {"ANTHROPIC_API_KEY": "x"},
            ["anthropic/claude-sonnet-4-5", "anthropic/anything"],
        ),
    ],
)
def test_named_cases(
    oracle: ReplayServer,
    name: str,
    calls: list[dict[str, Any]],
    env: dict[str, str],
    specs: list[str],
) -> None:

    registry = Registry(env=env)
    for call in calls:
        if call["op"] == "registerProvider":
            registry.register_provider(call["id"], call["registration"])
        elif call["op"] == "configureProvider":
            registry.configure_provider(call["id"], call["settings"])
    mine = [resolve_result(registry, spec, show_secrets=True) for spec in specs]
    assert mine == oracle.run({"env": env, "calls": calls, "resolve": specs})["results"], name
    assert any(r["ok"] for r in mine), "a named case must resolve something, not only fail"


def test_bundled_examples_match_the_reference(oracle: ReplayServer) -> None:
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "OPENROUTER_API_KEY": "or-test",
        "ACME_API_KEY": "acme-test",
        "OPENAI_API_KEY": "sk-test",
    }
    paths = [str(REPO / "providers.d")]
    compilation = compile_paths(paths)
    rendered, problems = render_calls(compilation.calls, env)
    assert compilation.ok
    assert not problems
    calls = [c.to_replay(show_secrets=True) for c in rendered]
    specs = [
        "ollama/llama3.1:8b",
        "ollama/mistral:7b",
        "anthropic/claude-sonnet-4-5",
        "openrouter-team/anthropic/claude-sonnet-4",
        "openrouter-team/x",
        "openai/gpt-4o",
        "openai/gpt-4o-mini",
        "acme/acme-large",
        "cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "cloudflare/@cf/not/in-catalog",
    ]
    assert (
        ours(paths, env, specs)
        == oracle.run({"env": env, "calls": calls, "resolve": specs})["results"]
    )


@settings(
    max_examples=4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tree=trees())
def test_replay_server_agrees_with_replay_mjs(oracle: ReplayServer, tree: Tree) -> None:
    """The batch server resets state between cases; it must answer as a fresh replay.mjs."""
    del oracle  # requested for its availability check only
    server = ReplayServer()
    try:
        case = {"env": tree.env, "calls": tree.expected_calls, "resolve": tree.specs}
        server.run(
            {
                "env": {"OPENAI_API_KEY": "stale"},
                "calls": tree.expected_calls,
                "resolve": ["openai/gpt-4o"],
            }
        )  # leave state behind on purpose
        assert server.run(case) == replay_once(case)
    finally:
        server.close()


@pytest.mark.parametrize("home", ["", "{tmp}/x/missing/..", "{tmp}/x", "{tmp}/nowhere"])
def test_vertex_credentials_are_found_where_node_finds_them(
    oracle: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str
) -> None:
    """pi-ai looks for Google's ADC file under node's os.homedir() (HOME as it is, even
    empty) joined with path.join (lexical ``..``); both sides run in the same directory."""

    for base in (tmp_path / "x", tmp_path):  # HOME="" is the working directory
        adc = base / ".config" / "gcloud" / "application_default_credentials.json"
        adc.parent.mkdir(parents=True, exist_ok=True)
        adc.write_text("{}")
    # tmp/x/missing does not exist: "tmp/x/missing/.." names tmp/x only lexically.
    env = {
        "HOME": home.format(tmp=tmp_path),
        "GOOGLE_CLOUD_PROJECT": "p",
        "GOOGLE_CLOUD_LOCATION": "us-central1",
    }
    specs = ["google-vertex/gemini-2.5-flash"]
    monkeypatch.chdir(tmp_path)
    mine = [resolve_result(Registry(env=env), spec, show_secrets=True) for spec in specs]
    theirs = replay_once({"env": env, "calls": [], "resolve": specs}, cwd=tmp_path)["results"]
    assert mine == theirs
    assert mine[0]["apiKey"] == (None if "nowhere" in home else "<authenticated>")


RESERVED = ["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty"]


@pytest.mark.parametrize("provider", RESERVED)
def test_prototype_names_are_refused_because_the_runtime_misreads_them(
    oracle: ReplayServer, tmp_path: Path, provider: str
) -> None:
    """The reference runtime, given such a provider, reads its key from variables named
    after Object.prototype members: flue-decl refuses the ID at validate instead."""
    calls = [
        {
            "op": "registerProvider",
            "id": provider,
            "registration": {"api": "openai-completions", "baseUrl": "https://x.example/v1"},
        }
    ]
    planted = {"[object Object]": "planted", "function Object() { [native code] }": "planted"}
    planted |= {f"function {provider}() {{ [native code] }}": "planted"}
    theirs = oracle.run({"env": planted, "calls": calls, "resolve": [f"{provider}/m"]})
    (tree := tmp_path / "providers.d").mkdir()
    (tree / "a.yaml").write_text(
        f"kind: Provider\nid: '{provider}'\napi: openai-completions\nbaseUrl: https://x.example/v1\n"
    )
    assert [d.code for d in compile_paths([str(tree)]).diagnostics] == ["reserved-id"]
    if provider in ("__proto__", "constructor"):
        assert theirs["results"][0]["apiKey"] == "planted"  # read from a nonsense variable
