"""SDK-ready arguments, checked with the real OpenAI and Anthropic SDKs against loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flue_decl import ClientError, Registry
from tests.loopback import Loopback, loopback_server

openai = pytest.importorskip("openai", reason="the openai SDK (a test-only dependency)")
anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK (a test-only dependency)")

KEY = "sk-sdk-0123456789abcdef"


@pytest.fixture
def server() -> Iterator[Loopback]:
    with loopback_server() as state:
        yield state


def _registry(server: Loopback, api: str, base: str = "/v1", **extra: Any) -> Registry:
    registry = Registry(env={"AZURE_OPENAI_API_VERSION": "2025-04-01-preview"})
    registry.register_provider(
        "gw",
        {
            "api": api,
            "baseUrl": f"{server.url}{base}",
            "apiKey": KEY,
            "headers": {"X-Team": "search", "X-Api-Token": "t-1"},
            "maxTokens": 2048,
            **extra,
        },
    )
    registry.configure_provider("gw", {"headers": {"OpenAI-Organization": "org-1"}})
    return registry


def test_openai_sdk_with_the_kwargs_sends_what_the_registry_says(server: Loopback) -> None:
    registry = _registry(server, "openai-completions")
    client = openai.OpenAI(**registry.openai_kwargs("gw/m"), max_retries=0)
    client.models.list()
    (request,) = server.requests
    assert request.path == "/v1/models"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-team"] == "search"
    assert request.headers["x-api-token"] == "t-1"
    assert request.headers["openai-organization"] == "org-1"
    assert registry.request_defaults("gw/m") == {"max_tokens": 2048}


def test_azure_gets_its_api_version_and_the_responses_defaults(server: Loopback) -> None:
    registry = _registry(server, "azure-openai-responses")
    registry.configure_provider("gw", {"storeResponses": True})
    kwargs = registry.openai_kwargs("gw/m")
    assert kwargs["api_version"] == "2025-04-01-preview"
    client = openai.AzureOpenAI(**kwargs, max_retries=0)
    client.models.list()
    (request,) = server.requests
    assert KEY in (request.headers.get("api-key"), request.headers.get("authorization", "")[7:])
    assert "api-version=2025-04-01-preview" in request.path
    assert registry.request_defaults("gw/m") == {"max_output_tokens": 2048, "store": True}


def test_anthropic_sdk_with_the_kwargs(server: Loopback) -> None:
    registry = _registry(server, "anthropic-messages", base="")  # the SDK adds /v1, as Flue's
    client = anthropic.Anthropic(**registry.anthropic_kwargs("gw/m"), max_retries=0)
    client.models.list()
    (request,) = server.requests
    assert request.path.startswith("/v1/models")
    sent = request.headers.get("x-api-key") or request.headers["authorization"]
    assert sent.removeprefix("Bearer ") == KEY  # SDK versions differ in the header
    assert request.headers["x-team"] == "search"


def test_the_sdk_arguments_keep_the_transport_rule() -> None:
    registry = Registry(env={})
    registry.register_provider(
        "lan", {"api": "openai-completions", "baseUrl": "http://192.0.2.99/v1", "apiKey": KEY}
    )
    with pytest.raises(ClientError) as info:
        registry.openai_kwargs("lan/m")
    assert info.value.diagnostics[0].code == "insecure-key-transport"
    with pytest.raises(ClientError) as other:
        registry.anthropic_kwargs("lan/m")  # not an Anthropic model
    assert other.value.diagnostics[0].code in ("client-unsupported", "insecure-key-transport")
