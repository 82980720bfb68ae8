"""explain: every effective field of a model, what set it and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from flue_decl import ResolveError, load_registry
from flue_decl.views import explain
from tests.helpers import write_files


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


def rows(paths: list[str], spec: str, **kwargs: bool) -> dict[str, tuple[object, str, str]]:
    registry = load_registry(paths, env={"P_TOKEN": "tok-CANARY"})
    return {
        r.field: (r.value, r.source, r.where().split(",")[0] if r.origin else "")
        for r in explain(registry, spec, **kwargs)
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
