"""Lints: likely mistakes in valid configuration, each a warning at its place."""

from __future__ import annotations

from flue_decl import Severity, builtin_catalog
from flue_decl.compiler import _lints
from tests.unit.compiler.stages import entities

KEY = "sk-proj-" + "Zx8Kq2Lw9Vb4Nm7Tr1Yp5Hd3Gf6Js0Ac"


def found(*files: str) -> list[tuple[str, int, str]]:
    layered = entities(*files)
    diagnostics = _lints.lint(layered, layered, builtin_catalog())
    assert all(d.severity is Severity.WARNING for d in diagnostics)
    return [(d.code, d.line or 0, d.message) for d in diagnostics]


PROVIDER = "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example\n"


def test_a_literal_key_is_named_by_its_kind_and_never_echoed() -> None:
    ((code, line, message),) = found(PROVIDER + f"apiKey: {KEY}\n")
    assert (code, line) == ("literal-secret", 5)
    assert "an OpenAI-style key" in message
    assert KEY not in message


def test_a_template_key_is_not_a_literal_secret() -> None:
    assert found(PROVIDER + "apiKey: '{{ env.P_KEY }}'\n") == []


def test_another_tools_variable_syntax_is_pointed_out() -> None:
    ((code, line, message),) = found(PROVIDER + "headers: {X-Team: '${TEAM}'}\n")
    assert (code, line) == ("foreign-template", 5)
    assert "shell / docker-compose" in message


def test_max_tokens_above_the_context_window() -> None:
    text = PROVIDER + "contextWindow: 1000\nmaxTokens: 2000\nmodels: {m: {contextWindow: 10}}\n"
    assert [(c, line) for c, line, _ in found(text)] == [
        ("max-tokens-exceeds-context", 6),
        ("max-tokens-exceeds-context", 7),
    ]


def test_yaml_1_1_booleans_are_flagged() -> None:
    text = "kind: ProviderConfiguration\nid: openai\nstoreResponses: yes\n"
    ((code, line, message),) = found(text)
    assert (code, line) == ("yaml11-boolean", 3)
    assert "`yes` is read as true" in message


def test_store_responses_where_the_api_ignores_it() -> None:
    ((code, line, _),) = found("kind: ProviderConfiguration\nid: anthropic\nstoreResponses: true\n")
    assert (code, line) == ("store-responses-ignored", 3)
    assert found("kind: ProviderConfiguration\nid: openai\nstoreResponses: true\n") == []


def test_registering_a_built_in_id_shadows_it_and_checks_model_names() -> None:
    text = (
        "kind: Provider\nid: anthropic\napi: anthropic-messages\n"
        "baseUrl: https://gw.example\nmodels: {claude-sonet-4-5: {maxTokens: 10}}\n"
    )
    assert [(c, line) for c, line, _ in found(text)] == [
        ("shadows-builtin", 2),
        ("unknown-catalog-model", 5),
    ]
