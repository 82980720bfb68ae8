"""What counts as a credential, and what is scrubbed from every message."""

from __future__ import annotations

import pytest

from flue_decl._secrets import MASK, is_credential_name, scrub

# Real header names, and whether their values are credentials.
HEADERS = {
    "Authorization": True,
    "Proxy-Authorization": True,
    "Authentication": True,
    "x-api-key": True,
    "api-key": True,
    "X-API-KEY": True,
    "apikey": True,
    "x-goog-api-key": True,
    "Ocp-Apim-Subscription-Key": True,  # Azure API Management
    "X-Auth-Key": True,
    "X-Auth": True,
    "X-Custom-Auth": True,
    "X-Auth-Token": True,
    "X-Amz-Security-Token": True,
    "X-Session-Key": True,
    "Cookie": True,
    "X-Client-Secret": True,
    "X-Signature": True,
    "cf-aig-authorization": True,  # Cloudflare AI Gateway
    "X-Max-Tokens": False,
    "X-Team": False,
    "X-Env": False,
    "OpenAI-Organization": False,
    "OpenAI-Project": False,
    "HTTP-Referer": False,
    "X-Title": False,
    "anthropic-version": False,
    "anthropic-beta": False,
    "X-Request-Id": False,
    "User-Agent": False,
    "X-Tokenizer": False,
}


@pytest.mark.parametrize(("name", "credential"), HEADERS.items())
def test_credential_headers_are_named_by_a_credential_word(name: str, credential: bool) -> None:
    assert is_credential_name(name) is credential


@pytest.mark.parametrize(
    "key",
    [
        "0123456789abcdef0123456789abcdef",  # 32 lowercase hex: Azure-style
        "0123456789ABCDEF0123456789ABCDEF01",
        "Zm9vYmFyMTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u",  # base64
        "sk-proj-Zx8Kq2Lw9Vb4Nm7Tr1Yp5Hd3",
    ],
)
def test_key_shaped_tokens_are_scrubbed_from_messages(key: str) -> None:
    assert scrub(f"invalid value {key!r} here") == f"invalid value '{MASK}' here"


@pytest.mark.parametrize(
    "text",
    [
        "provider `openai-responses-azure-east` is unknown",
        "maxTokens 16384 is larger than contextWindow 8192",
        "abcdefabcdefabcdefabcdefabcdefabcdef",  # letters only: a name, not a key
    ],
)
def test_ordinary_words_are_left_alone(text: str) -> None:
    assert scrub(text) == text


# Variables a template may read, and whether what it renders is a credential.
VARIABLES = {
    "OPENAI_API_KEY": True,
    "SESSION_TOKEN": True,
    "DB_PASSWORD": True,
    "AWS_SECRET_ACCESS_KEY": True,
    "GATEWAY_AUTH": True,
    "MAX_TOKENS": False,
    "TEAM": False,
    "OPENAI_BASE_URL": False,
    "GOOGLE_CLOUD_PROJECT": False,
}


@pytest.mark.parametrize(("name", "secret"), VARIABLES.items())
def test_a_field_filled_from_a_secret_named_variable_is_a_credential(
    name: str, secret: bool
) -> None:
    from flue_decl.templates import credential_paths

    data = {
        "baseUrl": f"https://h.example/{{{{ env.{name} }}}}/v1",
        "headers": {"X-Team": f"{{{{ env.{name} | lower }}}}", "X-Api-Key": "literal"},
    }
    expected: set[tuple[str, ...]] = {("headers", "X-Api-Key")}  # by its name, literal or not
    if secret:
        expected |= {("baseUrl",), ("headers", "X-Team")}
    assert set(credential_paths("Provider", data)) == expected


@pytest.mark.parametrize(
    ("url", "names", "shown"),
    [
        ("https://h/v1?key=abc&api-version=2", ["key"], "https://h/v1?key=***&api-version=2"),
        (
            "https://h/v1?access_token=x#frag",
            ["access_token"],
            "https://h/v1?access_token=***#frag",
        ),
        ("https://h/v1?X-Api-Key=x", ["X-Api-Key"], "https://h/v1?X-Api-Key=***"),
        ("https://h/v1?max_tokens=5", [], "https://h/v1?max_tokens=5"),
        ("https://h/v1?key=", [], "https://h/v1?key="),
        ("http://user:pw@h:1/v1", [], "http://***@h:1/v1"),
        ("https://bob:pa@ssw0rd@h/v1", [], "https://***@h/v1"),  # userinfo ends at the last @
        ("https://h/v1", [], "https://h/v1"),
    ],
)
def test_credential_query_parameters_are_found_and_masked(
    url: str, names: list[str], shown: str
) -> None:
    from flue_decl._secrets import mask_url, url_credentials

    assert url_credentials(url) == names
    assert mask_url(url) == shown
