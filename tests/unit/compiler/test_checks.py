"""The checks beyond the schema, called on layered entities as the pipeline does."""

from __future__ import annotations

import pytest

from flue_decl import builtin_catalog
from flue_decl.compiler import _checks
from tests.unit.compiler.stages import entities


def found(*files: str) -> list[tuple[str, int, str]]:
    layered = entities(*files)
    return [
        (d.code, d.line or 0, d.hint or "")
        for d in _checks.check(layered, builtin_catalog(), layered)
    ]


def test_a_clean_tree_has_nothing_to_report() -> None:
    assert (
        found(
            """
            kind: Provider
            id: vllm
            api: openai-completions
            baseUrl: https://vllm.example.com/v1
            apiKey: "{{ env.VLLM_KEY }}"
            """
        )
        == []
    )


def test_an_unknown_api_is_named_with_a_did_you_mean() -> None:
    ((code, line, hint),) = found(
        "kind: Provider\nid: x\napi: openai-completion\nbaseUrl: https://x.example\n"
    )
    assert (code, line, hint) == ("unknown-api", 3, "did you mean `openai-completions`?")


def test_an_api_declared_by_an_api_provider_is_known() -> None:
    assert (
        found(
            "kind: ApiProvider\napi: acme-rpc\nhandler: acme.mod:Rpc\n",
            "kind: Provider\nid: acme\napi: acme-rpc\nbaseUrl: https://a.example\n",
        )
        == []
    )


def test_configuring_a_provider_that_nobody_defines() -> None:
    ((code, line, hint),) = found("kind: ProviderConfiguration\nid: antropic\n")
    assert (code, line, hint) == ("unknown-provider", 2, "did you mean `anthropic`?")


def test_templates_outside_the_templated_fields_are_refused() -> None:
    ((code, line, _),) = found(
        'kind: Provider\nid: x\napi: "{{ env.API }}"\nbaseUrl: https://x.example\n'
    )
    assert (code, line) == ("template-not-allowed", 3)


def test_a_template_that_does_not_parse_is_reported_at_its_value() -> None:
    ((code, line, _),) = found(
        'kind: Provider\nid: x\napi: openai-completions\nbaseUrl: "{{ env.URL "\n'
    )
    assert (code, line) == ("template-syntax", 4)


def test_a_key_over_plain_http_off_loopback_names_both_places() -> None:
    layered = entities(
        "kind: Provider\nid: x\napi: openai-completions\nbaseUrl: http://10.1.2.3/v1\n",
        "kind: ProviderConfiguration\nid: x\napiKey: '{{ env.K }}'\n",
    )
    (diag,) = _checks.check(layered, builtin_catalog(), layered)
    assert (diag.code, diag.file, diag.line) == ("insecure-key-transport", "f0.yaml", 4)
    assert [(p.file, p.line) for p in diag.related] == [("f1.yaml", 3)]


def test_loopback_http_and_an_empty_key_are_fine() -> None:
    assert (
        found(
            "kind: Provider\nid: a\napi: openai-completions\nbaseUrl: http://127.0.0.1:8000\n"
            "apiKey: '{{ env.K }}'\n",
            "kind: Provider\nid: b\napi: openai-completions\nbaseUrl: http://10.0.0.1\n"
            "apiKey: ''\n",
        )
        == []
    )


def test_a_literal_url_that_is_not_http_is_invalid() -> None:
    ((code, line, _),) = found("kind: Provider\nid: x\napi: openai-completions\nbaseUrl: ftp://x\n")
    assert (code, line) == ("invalid-url", 4)


def test_a_template_under_an_unknown_key_is_left_to_the_schema() -> None:
    # `registration:` nested by mistake: the unknown key is the problem, not the template.
    text = "kind: Provider\nid: x\napi: openai-completions\nbaseUrl: https://x.example\n"
    assert found(text + "registration: {apiKey: '{{ env.K }}'}\n") == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://evil.example.com\\@localhost/v1", "backslash"),
        ("https://svc:hunter2@gw.example/v1", "user or password"),
        ("https://token@gw.example/v1", "user or password"),
    ],
)
def test_urls_flue_would_read_differently_or_that_carry_credentials_are_refused(
    url: str, problem: str
) -> None:
    text = f"kind: Provider\nid: x\napi: openai-completions\nbaseUrl: '{url}'\n"
    layered = entities(text)
    (diag,) = _checks.check(layered, builtin_catalog(), layered)
    assert diag.code == "invalid-url"
    assert problem in diag.message
    assert "hunter2" not in diag.message


@pytest.mark.parametrize(
    "host", ["127.1", "localhost.", "[::ffff:127.0.0.1]", "2130706433", "0x7f.1", "api.localhost"]
)
def test_every_loopback_spelling_may_carry_a_key_over_http(host: str) -> None:
    text = (
        f"kind: Provider\nid: x\napi: openai-completions\nbaseUrl: 'http://{host}:8000/v1'\n"
        "apiKey: '{{ env.K }}'\n"
    )
    assert found(text) == []


def test_credential_headers_are_held_to_the_transport_rule_like_the_key() -> None:
    base = "kind: Provider\nid: gw\napi: openai-completions\nbaseUrl: http://192.0.2.2:8000/v1\n"
    layered = entities(base + "headers: {Authorization: 'Bearer {{ env.X }}', X-Team: t}\n")
    (diag,) = _checks.check(layered, builtin_catalog(), layered)
    assert diag.code == "insecure-key-transport"
    assert "header `Authorization`" in diag.message
    assert [p.line for p in diag.related] == [5]
    # Not credentials: a header that holds a number, and an empty credential.
    assert found(base + "headers: {X-Max-Tokens: '512', Authorization: ''}\n") == []
    allowed = base + "headers: {Authorization: 'Bearer {{ env.X }}'}\nallowPlainHttp: true\n"
    assert [code for code, _, _ in found(allowed)] == ["plain-http-allowed"]
