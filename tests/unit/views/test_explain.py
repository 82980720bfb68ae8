"""explain: every effective field of a model, what set it and where."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flue_decl import Call, Registry, ResolveError, load_registry
from flue_decl.views import explain
from tests.conformance.generate import World, specs, worlds
from tests.helpers import examples, write_files


@pytest.fixture
def tree(tmp_path: Path) -> list[str]:
    write_files(
        tmp_path,
        {
            "base.d/p.yaml": """
            kind: Provider
            id: p
            api: openai-completions
            baseUrl: https://p.example/v1
            contextWindow: 8192
            headers: {Authorization: "Bearer {{ env.P_TOKEN }}"}
            models:
              big: {contextWindow: 100000}
            """,
            "prod.d/p.yaml": """
            kind: ProviderConfiguration
            id: p
            baseUrl: https://proxy.example/v1
            storeResponses: true
            """,
        },
    )
    return [str(tmp_path / "base.d"), str(tmp_path / "prod.d")]


def rows(
    paths: list[str], spec: str, *, show_secrets: bool = False
) -> dict[str, tuple[object, str, str]]:
    registry = load_registry(paths, env={"P_TOKEN": "tok-CANARY"})
    return {
        r.field: (r.value, r.source, r.where().split(",")[0] if r.origin else "")
        for r in explain(registry, spec, show_secrets=show_secrets)
    }


def test_each_field_says_what_set_it(tree: list[str]) -> None:
    found = rows(tree, "p/big")
    base, prod = Path(tree[0]) / "p.yaml", Path(tree[1]) / "p.yaml"
    assert found["contextWindow"] == (100000, "per-model override", f"{base}:8")
    assert found["maxTokens"] == (0, "Flue default for registered providers", "")
    assert found["baseUrl"] == ("https://proxy.example/v1", "configureProvider", f"{prod}:3")
    assert found["api"] == ("openai-completions", "provider registration", f"{base}:3")
    assert found["id"][1] == "model ID from the specifier"
    assert found["apiKey"][1] == "none"  # P_TOKEN feeds a header, not pi-ai's key lookup
    store = found["storeResponses"]
    assert store[0] is False
    assert "ignored: api openai-completions" in store[1]


def test_a_model_without_an_override_takes_the_provider_default(tree: list[str]) -> None:
    assert rows(tree, "p/other")["contextWindow"][:2] == (8192, "provider default")


def test_credential_headers_are_masked_unless_asked(tree: list[str]) -> None:
    assert rows(tree, "p/big")["headers.Authorization"][0] == "***"
    shown = rows(tree, "p/big", show_secrets=True)["headers.Authorization"][0]
    assert shown == "Bearer tok-CANARY"


def test_a_catalog_model_and_an_unknown_one() -> None:
    registry = load_registry([], env={"ANTHROPIC_API_KEY": "a"})
    found = {r.field: r for r in explain(registry, "anthropic/claude-sonnet-4-5")}
    assert found["contextWindow"].source.startswith("catalog")
    assert found["apiKey"].source == "environment variable ANTHROPIC_API_KEY"
    assert found["apiKey"].value == "***"
    with pytest.raises(ResolveError):
        explain(registry, "anthropic/no-such-model")
    assert found["apiKey"].to_json()["file"] is None


@settings(max_examples=examples(150), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(worlds().flatmap(lambda world: st.tuples(st.just(world), specs(world))))
def test_what_explain_says_set_a_field_is_where_resolution_took_it(
    drawn: tuple[World, list[str]],
) -> None:
    # One source per fact: explain shows what resolution recorded. Wherever that names a
    # call's field, the field holds the value the model has.
    world, wanted = drawn
    registry = Registry(env=world.env)
    for pid, registration in world.providers.items():
        call = {"op": "registerProvider", "id": pid, "registration": registration}
        registry.apply(Call.from_replay(call, {}))
    for pid, configured in world.settings.items():
        call = {"op": "configureProvider", "id": pid, "settings": configured}
        registry.apply(Call.from_replay(call, {}))
    payloads = {"registerProvider": world.providers, "configureProvider": world.settings}
    for spec in wanted:
        try:
            model = registry.resolve_model(spec).to_dict()
        except ResolveError:
            continue
        sources = registry.sources(spec)
        shown = {f"headers.{k}": v for k, v in (model.get("headers") or {}).items()}
        fields = {**{k: v for k, v in model.items() if k != "headers"}, **shown}
        for field, value in fields.items():
            label, op, path = sources[field]
            assert label, field
            if op is None or path is None or label.startswith("Cloudflare binding"):
                continue
            held: object = payloads[op][spec.split("/", 1)[0]]
            for step in path:
                assert isinstance(held, dict), (spec, field, path)
                held = held[step]
            assert held == value, (spec, field, label, path)
