"""What each of pi-ai's wire protocols puts on the wire for a model, as pi-ai does it: the
header that carries the key (by API, provider and key), the base URL adjustments (Codex's
``/codex``, Azure's resource and ``/openai/v1``, Vertex's project and location), Azure's
``api-version``, and the refusal of a model without a key. One home for these rules:
flue-decl's httpx clients (``_clients``) and the SDK arguments (``_sdk``) both read them,
and ``tests/conformance/test_wire.py`` checks them against pi-ai's own requests.
"""

from __future__ import annotations

import base64
import json
import math
import platform
import re
import sys
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._errors import ClientError, Diagnostic
from .._jsjson import number as js_number

ANTHROPIC_VERSION = "2023-06-01"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# The header each of Pi's wire protocols sends its key in (see key_headers for the
# providers and keys that change it).
AUTH_HEADERS: dict[str, Callable[[str], dict[str, str]]] = {
    "openai-completions": _bearer,
    "openai-responses": _bearer,
    "openai-codex-responses": _bearer,
    "mistral-conversations": _bearer,
    "azure-openai-responses": lambda key: {"api-key": key},
    "anthropic-messages": lambda key: {"x-api-key": key},
    "google-generative-ai": lambda key: {"x-goog-api-key": key},
    "google-vertex": lambda key: {"x-goog-api-key": key},
}
# pi-ai sends no request for these without a key ("No API key for provider: ..."); Vertex
# falls back to Google's application default credentials.
NEEDS_KEY = frozenset(AUTH_HEADERS) - {"google-vertex"}
CLOUDFLARE_GATEWAY = "cloudflare-ai-gateway"
_GATEWAY_APIS = frozenset({"openai-completions", "openai-responses", "anthropic-messages"})
_CODEX_CLAIM = "https://api.openai.com/auth"


def key_headers(model: Any, key: str) -> dict[str, str]:
    """The headers that carry ``key`` for ``model``, as pi-ai sends them: the API's header,
    except Cloudflare's AI Gateway (``cf-aig-authorization``, nothing else), Anthropic
    OAuth tokens and GitHub Copilot's Anthropic models (a bearer token), and Codex (a
    bearer token with the ChatGPT account it names). Raises ClientError where pi-ai
    refuses the key (a Codex token that names no account)."""
    api, provider = model.api, model.provider
    if provider == CLOUDFLARE_GATEWAY and api in _GATEWAY_APIS:
        return {"cf-aig-authorization": f"Bearer {key}"}
    if api == "anthropic-messages" and provider == "github-copilot":
        return _bearer(key)
    if api == "anthropic-messages" and "sk-ant-oat" in key:
        # Anthropic takes an OAuth token only with these betas (pi-ai adds request
        # features after them, and Claude Code's user agent: see docs/python.md).
        return {**_bearer(key), "anthropic-beta": "claude-code-20250219,oauth-2025-04-20"}
    if api == "openai-codex-responses":
        return {**_bearer(key), "chatgpt-account-id": _codex_account(model, key)}
    return AUTH_HEADERS[api](key)


def _codex_account(model: Any, token: str) -> str:
    """The account of a ChatGPT token, read as pi-ai's ``extractAccountId`` reads it (its
    middle part through WHATWG ``atob``, then ``JSON.parse``)."""
    parts = token.split(".")
    claims = _atob_json(parts[1]) if len(parts) == 3 else None
    auth = claims.get(_CODEX_CLAIM) if isinstance(claims, dict) else None
    account = auth.get("chatgpt_account_id") if isinstance(auth, dict) else None
    if not _js_truthy(account):
        raise unsupported(
            model,
            "Failed to extract accountId from token (pi-ai sends nothing without the "
            f"ChatGPT account of its `{_CODEX_CLAIM}` claim)",
        )
    return _js_string(account)


def _js_truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value is not None and value is not False and value not in (0, "")


def _js_string(value: Any) -> str:
    """JavaScript's ``String(value)`` of a JSON value (a header value is set so)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, list):
        return ",".join("" if v is None else _js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


_ATOB = re.compile(r"[A-Za-z0-9+/]*")


def _atob_json(text: str) -> Any:
    """WHATWG forgiving-base64 decode, then JSON: None where either fails."""
    data = re.sub(r"[\t\n\f\r ]", "", text)
    if len(data) % 4 == 0:
        data = data[:-2] if data.endswith("==") else data[:-1] if data.endswith("=") else data
    if len(data) % 4 == 1 or not _ATOB.fullmatch(data):
        return None
    try:
        decoded = base64.b64decode(data + "=" * (-len(data) % 4)).decode("latin-1")
        return json.loads(decoded, parse_constant=_not_json)  # JSON.parse: no NaN
    except ValueError:
        return None


def _not_json(word: str) -> None:
    raise ValueError(word)


def missing_key(model: Any, env_names: Sequence[str]) -> ClientError:
    """pi-ai's refusal of a model without a key, saying what to set."""
    named = " or ".join(env_names)
    return ClientError(
        [
            Diagnostic.at(
                "client-unsupported",
                f"{model.spec}: No API key for provider: {model.provider}",
                None,
                hint=(f"set {named}, or " if named else "")
                + "give the provider an apiKey (Flue's runtime sends no request without "
                "one; for a server that ignores keys, such as Ollama, any placeholder)",
            )
        ]
    )


AZURE_API = "azure-openai-responses"
DEFAULT_AZURE_API_VERSION = "v1"  # pi-ai's, overridden by AZURE_OPENAI_API_VERSION


def azure_api_version(env: Mapping[str, str]) -> str:
    """The ``api-version`` query of Azure's requests, as pi-ai's AzureOpenAI client sends it."""
    return env.get("AZURE_OPENAI_API_VERSION") or DEFAULT_AZURE_API_VERSION


def azure_base_url(base_url: str, env: Mapping[str, str]) -> str:
    """Where pi-ai sends an Azure request (``resolveAzureConfig``): AZURE_OPENAI_BASE_URL,
    else the resource AZURE_OPENAI_RESOURCE_NAME names, else the model's base URL; an Azure
    host's base path made ``/openai/v1``."""
    resource = env.get("AZURE_OPENAI_RESOURCE_NAME")
    chosen = (env.get("AZURE_OPENAI_BASE_URL") or "").strip() or (
        f"https://{resource}.openai.azure.com/openai/v1" if resource else base_url
    )
    parts = urllib.parse.urlsplit(chosen.strip().rstrip("/"))
    host = (parts.hostname or "").lower()
    azure = host.endswith((".openai.azure.com", ".cognitiveservices.azure.com"))
    if azure and parts.path.rstrip("/") in ("", "/openai"):
        parts = parts._replace(path="/openai/v1", query="")
    return urllib.parse.urlunsplit(parts).rstrip("/")


_API_VERSION_PART = re.compile(r"v\d+(?:beta\d*)?")


def vertex_api_base(base_url: str) -> str:
    """Where Vertex's ``publishers/...`` paths start under a configured base URL, as pi-ai
    gives it to Google's SDK: the base URL itself when a path segment names an API version
    (``v1``, ``v1beta1``), else with ``/v1`` after it."""
    path = urllib.parse.urlsplit(base_url).path
    if any(_API_VERSION_PART.fullmatch(part) for part in path.split("/")):
        return base_url
    return f"{base_url.rstrip('/')}/v1"


def codex_base_url(base_url: str) -> str:
    """Where Codex's ``responses`` endpoint lives: pi-ai's ``resolveCodexUrl`` without its
    last step (``.../codex``; a base URL ending in /codex or /codex/responses is kept)."""
    normalized = base_url.rstrip("/")
    if normalized.endswith("/codex/responses"):
        return normalized[: -len("/responses")]
    return normalized if normalized.endswith("/codex") else f"{normalized}/codex"


CODEX_API = "openai-codex-responses"
CLOUDFLARE_PROVIDERS = frozenset({"cloudflare-workers-ai", CLOUDFLARE_GATEWAY})
_OPENAI_ROUTES = frozenset({"openai-completions", "openai-responses"})
_PLACEHOLDER = re.compile(r"\{([A-Z_][A-Z0-9_]*)\}")


def cloudflare_base_url(model: Any, base_url: str, env: Mapping[str, str]) -> str:
    """A Cloudflare provider's base URL with its ``{VARIABLE}`` placeholders (the account,
    the gateway) filled from the environment, as pi-ai's ``resolveCloudflareBaseUrl`` does
    for the routes it sends through; an unset one is refused with pi-ai's words."""
    routed = model.api in _OPENAI_ROUTES or (
        model.provider == CLOUDFLARE_GATEWAY and model.api == "anthropic-messages"
    )
    if model.provider not in CLOUDFLARE_PROVIDERS or not routed or "{" not in base_url:
        return base_url

    def filled(match: re.Match[str]) -> str:
        value = env.get(match.group(1))
        if not value:
            raise unsupported(
                model,
                f"{match.group(1)} is required for provider {model.provider} but is not set.",
            )
        return value

    return _PLACEHOLDER.sub(filled, base_url)


def vertex_key(key: str | None) -> str | None:
    """The key Vertex requests carry (pi-ai's ``resolveApiKey``): trimmed; none for an empty
    one, the ``gcp-vertex-credentials`` marker or a ``<placeholder>``, which mean Google's
    application default credentials."""
    trimmed = key.strip() if key else ""
    if not trimmed or trimmed == "gcp-vertex-credentials" or re.fullmatch(r"<[^>]+>", trimmed):
        return None
    return trimmed


_HTTP_WHITESPACE = " \t\r\n"


_NODE_ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "i686": "ia32", "i386": "ia32"}


def codex_headers() -> dict[str, str]:
    """What pi-ai's Codex requests set after every configured header: its identity."""
    uname = platform.uname()
    machine = uname.machine.lower()
    agent = f"pi ({sys.platform} {uname.release}; {_NODE_ARCH.get(machine, machine)})"
    return {"User-Agent": agent, "originator": "pi", "OpenAI-Beta": "responses=experimental"}


def merged_headers(
    model: Any,
    defaults: Mapping[str, str],
    keyed: Mapping[str, str],
    configured: Mapping[str, str],
) -> list[tuple[str, str, bool]]:
    """Every header a request carries, as pi-ai's SDKs merge them: by name whatever its
    case, the later layer winning and naming it: flue-decl's defaults, the key's headers,
    the configured ones; except that Codex and the AI Gateway's OpenAI routes set the key's
    headers last (and there a configured ``authorization`` in any other spelling than
    ``Authorization`` is dropped, as pi-ai's ``Authorization: headers.Authorization ??
    null`` drops it). Each as (name, value, whether it came from the key)."""
    gateway = model.provider == CLOUDFLARE_GATEWAY and model.api in _OPENAI_ROUTES
    key_last = model.api == CODEX_API or gateway
    chosen: dict[str, tuple[str, str, bool]] = {}
    layers: list[tuple[Mapping[str, str], bool]] = [(defaults, False)]
    layers += [(configured, False), (keyed, True)] if key_last else [
        (keyed, True),
        (configured, False),
    ]
    if model.api == CODEX_API:
        layers.append((codex_headers(), False))
    for layer, from_key in layers:
        for name, value in layer.items():
            dropped = name.lower() == "authorization" and name != "Authorization"
            if gateway and not from_key and dropped:
                continue
            chosen[name.lower()] = (name, value, from_key)
    return list(chosen.values())


def header_value(model: Any, name: str, value: str) -> bytes:
    """``value`` as fetch sends it: HTTP whitespace trimmed at both ends, each character a
    byte (Latin-1). A line break or NUL inside, or a character past U+00FF, is refused as
    fetch refuses it, naming the header, never its value."""
    if not isinstance(value, str):  # a handler's auth_headers may return anything
        raise unsupported(model, f"its header `{name}` is not a string")
    trimmed = value.strip(_HTTP_WHITESPACE)
    if any(c in trimmed for c in "\r\n\0"):
        why = "holds a line break or NUL inside"
    elif not all(ord(c) < 256 for c in trimmed):
        why = "holds a character past U+00FF, which fetch cannot send"
    else:
        return trimmed.encode("latin-1")
    raise unsupported(model, f"its header `{name}` {why}")


EXTRA_HEADERS: dict[str, dict[str, str]] = {
    "anthropic-messages": {"anthropic-version": ANTHROPIC_VERSION},
}
# What Google accepts as a project ID and a location: also what keeps a variable's value
# from changing the URL's host or path.
_VERTEX_PROJECT = re.compile(
    r"[a-z][a-z0-9-]{4,61}[a-z0-9]|[a-z0-9.-]+:[a-z][a-z0-9-]{4,61}[a-z0-9]"
)
_VERTEX_LOCATION = re.compile(r"[a-z]+(?:-[a-z0-9]+)*")


def vertex_base_url(model: Any, key: str | None, env: Mapping[str, str]) -> str:
    """The base URL the Google Gen AI SDK uses for Vertex, as the runtime configures it: with
    an API key (express mode) the global endpoint; otherwise the project's and location's,
    from the variables the runtime reads."""
    if key:
        return "https://aiplatform.googleapis.com/v1"
    project = env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCLOUD_PROJECT") or ""
    location = env.get("GOOGLE_CLOUD_LOCATION") or ""
    missing = [
        name
        for name, value in (
            ("GOOGLE_CLOUD_PROJECT (or GCLOUD_PROJECT)", project),
            ("GOOGLE_CLOUD_LOCATION", location),
        )
        if not value
    ]
    if missing:
        raise unsupported(
            model,
            f"Vertex AI needs a project and a location: set {' and '.join(missing)}, "
            "or give the provider an API key",
        )
    if not _VERTEX_PROJECT.fullmatch(project) or not _VERTEX_LOCATION.fullmatch(location):
        raise unsupported(
            model,
            "GOOGLE_CLOUD_PROJECT or GOOGLE_CLOUD_LOCATION is not a Google Cloud project ID "
            "or location name",
        )
    host = (
        "aiplatform.googleapis.com"
        if location == "global"
        else f"{location}-aiplatform.googleapis.com"
    )
    return f"https://{host}/v1/projects/{project}/locations/{location}"


def refused(model: Any, message: str, hint: str | None = None) -> ClientError:
    """A ``client-unsupported`` refusal for ``model``: ``spec: message``."""
    return ClientError(
        [Diagnostic.at("client-unsupported", f"{model.spec}: {message}", None, hint=hint)]
    )


def unsupported(model: Any, why: str) -> ClientError:
    return refused(model, f"no HTTP client for api `{model.api}`: {why}")
