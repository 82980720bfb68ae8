"""Lints: likely mistakes in valid configuration, each a warning at its place."""

from __future__ import annotations

import pytest

from flue_decl import Severity, builtin_catalog
from flue_decl.compiler import _lints
from tests.unit.compiler.stages import entities

KEY = "sk-proj-" + "Zx8Kq2Lw9Vb4Nm7Tr1Yp5Hd3Gf6Js0Ac"


def found(*files: str) -> list[tuple[str, int, str]]:
    layered = entities(*files)
    diagnostics = _lints.lint(layered, builtin_catalog())
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


@pytest.mark.parametrize(
    "value", ["$GROQ_API_KEY", "os.environ/TOGETHER_API_KEY", "${VAR}", "Bearer {env:K}"]
)
def test_another_tools_syntax_in_a_credential_is_an_error(value: str) -> None:
    for field in (f"apiKey: '{value}'", f"headers: {{Authorization: '{value}'}}"):
        layered = entities(PROVIDER + field + "\n")
        (diag,) = _lints.lint(layered, builtin_catalog())
        assert (diag.code, diag.severity) == ("foreign-template", Severity.ERROR)
        assert "send it literally" in diag.message


def test_warnings_show_beside_the_errors_of_the_same_document() -> None:
    broken = PROVIDER + "apiKey: '$GROQ_API_KEY'\nstoreResponses: yes\nmodels: [a, b]\n"
    codes = [d.code for d in _lints.lint(entities(broken), builtin_catalog())]
    assert codes == ["foreign-template", "yaml11-boolean"]


def test_max_tokens_above_the_context_window() -> None:
    text = PROVIDER + "contextWindow: 1000\nmaxTokens: 2000\nmodels: {m: {contextWindow: 10}}\n"
    assert [(c, line) for c, line, _ in found(text)] == [
        ("max-tokens-exceeds-context", 6),
        ("max-tokens-exceeds-context", 7),
    ]


def test_a_boolean_token_count_is_not_a_limit() -> None:
    """`contextWindow: yes` is the schema's type error; read as 1 it made a second,
    confusing warning ("larger than contextWindow True")."""
    text = PROVIDER + "contextWindow: yes\nmaxTokens: 2000\nmodels: {m: {maxTokens: 10}}\n"
    assert [c for c, _, _ in found(text)] == ["yaml11-boolean"]


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
