"""Constructor arguments for the OpenAI and Anthropic Python SDKs, as the runtime builds its
own clients for a model (neither SDK is a dependency: these are plain dicts).

The same rules as flue-decl's clients hold: no credential over plain http:// off loopback
unless ``allowPlainHttp``; Bedrock, Vertex and bindings are not these SDKs' to call.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from .._catalog import AUTHENTICATED, RESPONSES_APIS
from .._errors import ClientError, Diagnostic
from .._urls import is_blank_key

OPENAI_APIS = frozenset({"openai-completions", "openai-responses", "openai-codex-responses"})
AZURE_API = "azure-openai-responses"
ANTHROPIC_API = "anthropic-messages"
DEFAULT_AZURE_API_VERSION = "v1"  # pi-ai's, overridden by AZURE_OPENAI_API_VERSION


def _refuse(model: Any, sdk: str) -> ClientError:
    return ClientError(
        [
            Diagnostic.at(
                "client-unsupported",
                f"{model.spec}: api `{model.api}` is not spoken by the {sdk} SDK",
                None,
                hint="use registry.http_client(spec), or the SDK of that API",
            )
        ]
    )


def _key(model: Any, api_key: str | None) -> str:
    """The key the SDK is given. pi-ai sends no request for a model without one ("No API
    key for provider"), and an SDK given none reads its own environment variables
    (ANTHROPIC_API_KEY for any anthropic-messages gateway): refused here instead."""
    if api_key is None or api_key == AUTHENTICATED or is_blank_key(api_key):
        raise ClientError(
            [
                Diagnostic.at(
                    "client-unsupported",
                    f"{model.spec}: No API key for provider: {model.provider}",
                    None,
                    hint="give the provider an apiKey (Flue's runtime refuses to call it "
                    "without one)",
                )
            ]
        )
    return api_key


def openai_kwargs(
    model: Any, api_key: str | None, settings: Mapping[str, Any], env: Mapping[str, str]
) -> dict[str, Any]:
    """``OpenAI(**kw)`` / ``AsyncOpenAI(**kw)``, or ``AzureOpenAI(**kw)`` for Azure's
    responses API (base URL normalised to ``/openai/v1`` on Azure hosts, ``api_version``
    from ``AZURE_OPENAI_API_VERSION``, default ``v1``, as pi-ai does). ``settings`` are the
    checked client settings (base URL, query, headers) of the model."""
    if model.api not in OPENAI_APIS and model.api != AZURE_API:
        raise _refuse(model, "OpenAI")
    kwargs = _common(model, api_key, settings)
    kwargs["api_key"] = _key(model, api_key)
    if model.api == AZURE_API:
        kwargs["base_url"] = _azure_base_url(kwargs["base_url"])
        kwargs["api_version"] = env.get("AZURE_OPENAI_API_VERSION") or DEFAULT_AZURE_API_VERSION
    return kwargs


def anthropic_kwargs(
    model: Any, api_key: str | None, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """``Anthropic(**kw)`` / ``AsyncAnthropic(**kw)``: an OAuth token (``sk-ant-oat...``)
    goes as ``auth_token``, any other key as ``api_key``."""
    if model.api != ANTHROPIC_API:
        raise _refuse(model, "Anthropic")
    kwargs = _common(model, api_key, settings)
    key = _key(model, api_key)
    if "sk-ant-oat" in key:
        kwargs["auth_token"] = key
    else:
        kwargs["api_key"] = key
    return kwargs


def _common(model: Any, api_key: str | None, settings: Mapping[str, Any]) -> dict[str, Any]:
    headers = dict(model.headers or {})
    query = dict(settings["params"])
    query.update(settings["secret_params"])
    kwargs: dict[str, Any] = {"base_url": settings["base_url"], "default_headers": headers}
    if query:
        kwargs["default_query"] = query
    return kwargs


def _azure_base_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url.strip().rstrip("/"))
    host = parts.hostname or ""
    azure = host.endswith((".openai.azure.com", ".cognitiveservices.azure.com"))
    if azure and parts.path.rstrip("/") in ("", "/openai"):
        parts = parts._replace(path="/openai/v1", query="")
    return urllib.parse.urlunsplit(parts).rstrip("/")


def request_defaults(model: Any, store_responses: bool) -> dict[str, Any]:
    """The per-request arguments the runtime sends for this model: its token limit (as
    ``max_output_tokens`` for the responses APIs, ``max_tokens`` otherwise) and, for the
    responses APIs, ``store`` (true only where ``storeResponses`` applies)."""
    out: dict[str, Any] = {}
    responses = model.api in RESPONSES_APIS
    if model.max_tokens:
        out["max_output_tokens" if responses else "max_tokens"] = model.max_tokens
    if responses:
        out["store"] = store_responses
    return out
