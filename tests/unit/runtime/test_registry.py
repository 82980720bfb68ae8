"""The Registry used by hand: the three calls, resolution, keys, copies and the memo."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from flue_decl import ConfigError, Model, Registry, ResolveError, Secret


def test_register_is_last_write_wins_without_merging() -> None:
    registry = Registry(env={})
    registry.register_provider(
        "p",
        {
            "api": "openai-completions",
            "baseUrl": "https://a",
            "maxTokens": 5,
            "headers": {"X": "1"},
        },
    )
    registry.register_provider("p", {"api": "anthropic-messages", "baseUrl": "https://b"})
    model = registry.resolve_model("p/m").to_dict()
    assert (model["api"], model["baseUrl"], model["maxTokens"]) == (
        "anthropic-messages",
        "https://b",
        0,
    )
    assert "headers" not in model


def test_configure_replaces_earlier_settings_and_patches_transport() -> None:
    registry = Registry(env={})
    registry.configure_provider("anthropic", {"baseUrl": "https://gw", "headers": {"A": "1"}})
    registry.configure_provider("anthropic", {"headers": {"B": "2"}})
    model = registry.resolve_model("anthropic/claude-sonnet-4-5")
    assert model.base_url == "https://api.anthropic.com"
    assert model.headers == {"B": "2"}
    assert model.context_window > 0  # catalog metadata kept


def test_per_model_override_then_provider_default_then_zero() -> None:
    registry = Registry(env={})
    registry.register_provider(
        "p",
        {
            "api": "openai-completions",
            "baseUrl": "https://a",
            "contextWindow": 100,
            "models": {"big": {"contextWindow": 900, "maxTokens": 9}},
        },
    )
    assert (
        registry.resolve_model("p/big").context_window,
        registry.resolve_model("p/big").max_tokens,
    ) == (900, 9)
    assert (
        registry.resolve_model("p/x").context_window,
        registry.resolve_model("p/x").max_tokens,
    ) == (100, 0)


def test_api_key_precedence_configured_registered_env() -> None:
    env = {"OPENAI_API_KEY": "from-env"}
    registry = Registry(env=env)
    assert registry.api_key("openai/gpt-4o") == "from-env"
    registry.register_provider(
        "openai", {"api": "openai-responses", "baseUrl": "https://o", "apiKey": "registered"}
    )
    assert registry.api_key("openai/gpt-4o") == "registered"
    registry.configure_provider("openai", {"apiKey": ""})
    assert registry.api_key("openai/gpt-4o") == ""  # an empty configured key counts
    assert registry.api_key_source("openai/gpt-4o") == ("configureProvider", None)


def test_env_lookup_skips_empty_variables_like_pi_ai() -> None:
    registry = Registry(env={"ANTHROPIC_OAUTH_TOKEN": "", "ANTHROPIC_API_KEY": "k"})
    assert registry.api_key("anthropic/claude-sonnet-4-5") == "k"
    assert registry.api_key_source("anthropic/claude-sonnet-4-5") == ("env", "ANTHROPIC_API_KEY")
    assert Registry(env={}).api_key("anthropic/claude-sonnet-4-5") is None


def test_store_responses_only_for_responses_apis() -> None:
    registry = Registry(env={})
    registry.configure_provider("openai", {"storeResponses": True})
    registry.configure_provider("anthropic", {"storeResponses": True})
    assert registry.store_responses("openai/gpt-4o") is True
    assert registry.store_responses("anthropic/claude-sonnet-4-5") is False


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("noslash", "Invalid model specifier"),
        ("nobody/x", "Unknown model specifier"),
        ("openai/no-such-model", "Unknown model specifier"),
        ("openai/", "Unknown model specifier"),
    ],
)
def test_resolution_errors_are_resolve_errors(spec: str, fragment: str) -> None:
    with pytest.raises(ResolveError) as info:
        Registry(env={}).resolve_model(spec)
    assert not isinstance(info.value, ConfigError)  # not a refused tree
    assert fragment in info.value.diagnostics[0].message
    assert info.value.diagnostics[0].code == "unresolved-model"


def test_empty_model_id_of_a_registered_provider() -> None:
    registry = Registry(env={})
    registry.register_provider(
        "ollama", {"api": "openai-completions", "baseUrl": "http://localhost"}
    )
    with pytest.raises(ResolveError, match="no model ID was given"):
        registry.resolve_model("ollama/")


def test_model_is_immutable_and_to_dict_is_a_copy() -> None:
    model = Registry(env={}).resolve_model("openai/gpt-4o")
    with pytest.raises(AttributeError):
        model.id = "x"  # type: ignore[misc]
    data = model.to_dict()
    data["cost"]["input"] = -1
    assert model.to_dict()["cost"]["input"] != -1
    assert isinstance(model, Model)
    assert model == Registry(env={}).resolve_model("openai/gpt-4o")


def test_secrets_never_show_in_repr_or_pickle() -> None:
    registry = Registry(env={})
    registry.register_provider(
        "p",
        {
            "api": "openai-completions",
            "baseUrl": "https://a",
            "apiKey": "sk-CANARY",
            "headers": {"Authorization": "Bearer sk-CANARY"},
        },
    )
    assert "CANARY" not in repr(registry)
    assert "CANARY" not in repr(registry.registration("p"))
    secret = Secret("sk-CANARY")
    assert "CANARY" not in f"{secret!r} {secret} {secret:>20}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert registry.api_key("p/m") == "sk-CANARY"  # handed out only where asked for


def test_bedrock_and_vertex_sdk_credentials() -> None:
    assert (
        Registry(env={"AWS_PROFILE": "dev"}).api_key("amazon-bedrock/amazon.nova-lite-v1:0")
        == "<authenticated>"
    )
    assert (
        Registry(env={"AWS_ACCESS_KEY_ID": "a"}).api_key("amazon-bedrock/amazon.nova-lite-v1:0")
        is None
    )
    vertex = {
        "GOOGLE_APPLICATION_CREDENTIALS": __file__,
        "GCLOUD_PROJECT": "p",
        "GOOGLE_CLOUD_LOCATION": "l",
    }
    assert Registry(env=vertex).api_key("google-vertex/gemini-2.5-flash") == "<authenticated>"


def test_resolution_is_memoised_until_the_next_registry_call() -> None:
    registry = Registry(env={})
    registry.register_provider("p", {"api": "openai-completions", "baseUrl": "https://a"})
    first = registry.resolve_model("p/m")
    assert registry.resolve_model("p/m") is first  # immutable: safe to share
    registry.register_provider("p", {"api": "openai-completions", "baseUrl": "https://b"})
    assert registry.resolve_model("p/m").base_url == "https://b"
    registry.configure_provider("p", {"baseUrl": "https://c"})
    assert registry.resolve_model("p/m").base_url == "https://c"
    with pytest.raises(ResolveError):
        registry.resolve_model("p/")
    with pytest.raises(ResolveError):  # errors are not cached as results
        registry.resolve_model("p/")


def test_a_subclass_override_of_resolve_model_is_kept() -> None:
    # The base class answers resolve_model from its memo directly; an override must win.
    class Audited(Registry):
        def __init__(self) -> None:
            super().__init__(env={})
            self.seen: list[str] = []

        def resolve_model(self, spec: str) -> Model:
            self.seen.append(spec)
            return super().resolve_model(spec)

    registry = Audited()
    registry.register_provider("p", {"api": "openai-completions", "baseUrl": "https://a"})
    assert registry.resolve_model("p/m").base_url == "https://a"
    assert registry.resolve_model("p/m").base_url == "https://a"
    assert registry.seen == ["p/m", "p/m"]
    with pytest.raises(ResolveError):
        registry.resolve_model("nope")


def test_copies_are_independent_registries_with_the_same_calls() -> None:
    import copy

    original = Registry(env={})
    original.register_provider(
        "p",
        {
            "api": "openai-completions",
            "baseUrl": "https://a",
            "apiKey": "sk-CANARY",
            "headers": {"Authorization": "Bearer sk-CANARY", "X-Team": "t"},
        },
    )
    assert original.resolve_model("p/m").base_url == "https://a"
    for make in (copy.copy, copy.deepcopy):
        twin = make(original)
        assert twin.resolve_model("p/m") == original.resolve_model("p/m")
        assert twin.api_key("p/m") == "sk-CANARY"
        twin.register_provider("p", {"api": "openai-completions", "baseUrl": "https://b"})
        twin.configure_provider("openai", {"baseUrl": "https://proxy"})
        assert twin.resolve_model("p/m").base_url == "https://b"
        assert original.resolve_model("p/m").base_url == "https://a"
        assert original.configured_providers() == ()
        assert original.api_key("p/m") == "sk-CANARY"


def test_pickling_a_registry_is_refused_before_anything_is_written() -> None:
    import io

    registry = Registry(env={})
    registry.register_provider(
        "p", {"api": "openai-completions", "baseUrl": "https://a", "apiKey": "sk-CANARY"}
    )
    sink = io.BytesIO()
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dump(registry, sink)
    assert sink.getvalue() == b""


def test_the_memo_stays_bounded_whatever_specifiers_callers_send(tmp_path: Path) -> None:
    # A service may pass user input (`?model=...`) straight to resolve_model: 200,000
    # distinct model IDs of a registered provider must not grow the process.
    code = """
import gc, os
from flue_decl import Registry

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

registry = Registry(env={})
registry.register_provider("p", {"api": "openai-completions", "baseUrl": "https://a",
                                 "headers": {"X-A": "b" * 200}})
for i in range(5000):
    registry.resolve_model(f"p/warm-{i}")
gc.collect()
before = rss()
for i in range(200_000):
    registry.resolve_model(f"p/unknown-model-{i:06d}")
gc.collect()
print(rss() - before)
"""
    if not Path("/proc/self/statm").exists():
        pytest.skip("needs /proc to read the resident set size")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert int(out.stdout) < 20 * 1024 * 1024


def test_a_resolve_error_reads_as_the_runtimes_message() -> None:
    with pytest.raises(ResolveError) as info:
        Registry(env={}).resolve_model("noslash")
    assert str(info.value).startswith("error[unresolved-model]: [flue] Invalid model specifier")


def test_a_registry_keeps_only_the_variables_the_key_lookup_reads() -> None:
    import copy

    from flue_decl import builtin_catalog
    from flue_decl.runtime._keys import needed_for_keys

    env = {
        "OPENAI_API_KEY": "sk-CANARY-openai",
        "DATABASE_PASSWORD": "CANARY-db",
        "PATH": "/usr/bin",
        "HOME": "/home/x",
    }
    registry = Registry(env=env)
    assert registry.api_key("openai/gpt-4o") == "sk-CANARY-openai"
    for view in (registry, copy.copy(registry), copy.deepcopy(registry)):
        shown = repr(vars(view)) if hasattr(view, "__dict__") else repr(view)
        assert "CANARY" not in shown
        assert "DATABASE_PASSWORD" not in shown
        assert "PATH" not in shown
    # Every variable the shipped catalog reads a key from is one the registry keeps.
    names = {n for entry in builtin_catalog().providers.values() for n in entry["apiKeyEnv"]}
    assert names
    assert all(needed_for_keys(n) for n in names)


def test_a_long_specifier_is_shown_as_asked_not_scrubbed() -> None:
    """A specifier is not a secret: a random-looking model ID stays in the message (and
    through the encoded form the cache and reloads use), a key-shaped value elsewhere in a
    message is still masked."""
    from flue_decl import Diagnostic, ResolveError

    spec = "openai/gpt-4o-AbCdEf1234567890XYZabcdefGHIJ1234"
    with pytest.raises(ResolveError) as info:
        Registry(env={}).resolve_model(spec)
    (diagnostic,) = info.value.diagnostics
    assert f'"{spec}"' in diagnostic.message
    assert Diagnostic.decoded(diagnostic.encoded()) == diagnostic
    leaked = Diagnostic.at("x", f"{spec} and sk-proj-{'A1b2' * 8}", None, verbatim=(spec,))
    assert spec in leaked.message
    assert "sk-proj" not in leaked.message
