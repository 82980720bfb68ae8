"""Constructor arguments for the OpenAI and Anthropic Python SDKs, as the runtime builds its
own clients for a model (neither SDK is a dependency: these are plain dicts).

Built from the same client settings as flue-decl's httpx clients (``_clients``): the same
base URL (Codex's ``/codex``, Azure's ``/openai/v1``), the same key in the same headers,
the same transport rule. Every header that carries the key is set explicitly, and where an
SDK would add one of its own that pi-ai does not send (the Anthropic SDK's
``Authorization: Bearer`` for an API key, the OpenAI SDK's for Cloudflare's AI Gateway),
it is omitted with the SDK's own ``omit`` marker.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from .._catalog import RESPONSES_APIS
from .._errors import ClientError
from ._wire import ANTHROPIC_VERSION, AZURE_API, refused

OPENAI_APIS = frozenset({"openai-completions", "openai-responses", "openai-codex-responses"})
ANTHROPIC_API = "anthropic-messages"
CODEX_API = "openai-codex-responses"
# The headers each SDK may add from its api_key by itself, as it spells them.
_SDK_AUTH = {"openai": ("Authorization",), "anthropic": ("Authorization", "X-Api-Key")}


def _refuse(model: Any, sdk: str) -> ClientError:
    return refused(
        model,
        f"api `{model.api}` is not spoken by the {sdk} SDK",
        hint="use registry.http_client(spec), or the SDK of that API",
    )


def openai_kwargs(model: Any, api_key: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """``OpenAI(**kw)`` / ``AsyncOpenAI(**kw)``, or ``AzureOpenAI(**kw)`` for Azure's
    responses API (with ``api_version``). ``api_key``: the key a request carries;
    ``settings``: the model's checked client settings (``_clients.client_settings``)."""
    if model.api not in OPENAI_APIS and model.api != AZURE_API:
        raise _refuse(model, "OpenAI")
    if "cf-aig-authorization" in {n.lower() for n in settings["sdk_headers"]} and (
        "Authorization" not in settings["sdk_headers"]
    ):
        raise refused(
            model,
            "the OpenAI SDK sends every request with an "
            "Authorization header, and Flue sends Cloudflare's AI Gateway the key "
            "as cf-aig-authorization alone",
            hint="use registry.http_client(spec), or give the upstream key as "
            "headers.Authorization",
        )
    kwargs = _common(model, settings, "openai", api_key)
    if model.api == AZURE_API:
        query = kwargs.pop("default_query", {})
        kwargs["api_version"] = query.pop("api-version")
        if query:
            kwargs["default_query"] = query
    return kwargs


def anthropic_kwargs(model: Any, api_key: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """``Anthropic(**kw)`` / ``AsyncAnthropic(**kw)``: the key in the header pi-ai uses
    (``x-api-key``; a bearer token for OAuth tokens and GitHub Copilot;
    ``cf-aig-authorization`` for Cloudflare's AI Gateway) and ``anthropic-version:
    2023-06-01``, whatever the installed SDK would send by itself."""
    if model.api != ANTHROPIC_API:
        raise _refuse(model, "Anthropic")
    kwargs = _common(model, settings, "anthropic", api_key)
    headers = kwargs["default_headers"]
    if "anthropic-version" not in {name.lower() for name in headers}:  # configured wins
        headers["anthropic-version"] = ANTHROPIC_VERSION
    return kwargs


def _common(
    model: Any, settings: Mapping[str, Any], sdk: str, api_key: str
) -> dict[str, Any]:
    if not api_key.strip(" \t\r\n"):
        raise refused(
            model,
            f"the key is blank: pi-ai sends it so, the {sdk} SDK takes "
            "it for none and reads its own environment variable instead",
            hint="give the provider a key, or use registry.http_client(spec)",
        )
    headers: dict[str, Any] = dict(settings["sdk_headers"])
    if not all(value.isascii() for value in headers.values()):
        raise refused(
            model,
            f"a header value holds a character the {sdk} SDK cannot "
            "send (pi-ai sends it as a Latin-1 byte)",
            hint="use registry.http_client(spec), which sends it as pi-ai does",
        )
    named = {name.lower() for name in headers}
    omit = _omit_marker(sdk)
    if omit is not None:
        for name in _SDK_AUTH[sdk]:
            if name.lower() not in named:
                headers[name] = omit
    query = dict(settings["params"])
    query.update(settings["secret_params"])
    # The key is given as api_key too, or the SDK would read its own environment variable.
    kwargs: dict[str, Any] = {
        "base_url": settings["base_url"],
        # Trimmed as fetch trims a header value: an SDK may put the key in a header of its
        # own at send time (Azure's api-key), where httpx refuses surrounding whitespace.
        "api_key": api_key.strip(" \t\r\n"),
        "default_headers": _spelled(headers, sdk),
    }
    if query:
        kwargs["default_query"] = query
    return kwargs


def _spelled(headers: Mapping[str, Any], sdk: str) -> dict[str, Any]:
    """``headers`` with the SDK's own auth headers in its spelling: a dict holding both
    ``x-api-key`` and ``X-Api-Key`` would send the header twice."""
    spelling = {name.lower(): name for name in _SDK_AUTH[sdk]}
    return {spelling.get(name.lower(), name): value for name, value in headers.items()}


def _omit_marker(sdk: str) -> Any:
    """The installed SDK's marker for "do not send this default header", or None (an SDK
    too old to have one adds no header of its own beyond its documented one)."""
    try:
        module = importlib.import_module(sdk)
    except ImportError:
        return None
    marker = getattr(module, "omit", None)
    if marker is None and isinstance(getattr(module, "Omit", None), type):
        marker = module.Omit()
    return marker


def request_defaults(model: Any, store_responses: bool) -> dict[str, Any]:
    """The per-request arguments the runtime sends for this model: its token limit (as
    ``max_output_tokens`` for the responses APIs, ``max_tokens`` otherwise, always for
    Anthropic, which requires it; none for Codex, which takes none) and, for the responses
    APIs, ``store`` (true only where ``storeResponses`` applies; always false for Codex,
    which refuses true). The runtime streams every request: use these with the SDK's
    streaming call (``stream=True``); the Anthropic SDK refuses a large ``max_tokens``
    without it."""
    if model.api == CODEX_API:
        return {"store": False}
    out: dict[str, Any] = {}
    responses = model.api in RESPONSES_APIS
    if model.api == ANTHROPIC_API:  # required by the API; pi-ai sends the model's, even 0
        out["max_tokens"] = model.max_tokens
    elif model.max_tokens:
        out["max_output_tokens" if responses else "max_tokens"] = model.max_tokens
    if responses:
        out["store"] = store_responses
    return out
