"""Ready httpx clients for a resolved model: base URL, headers and the key in the header the
wire protocol uses.

The wire rules (which header carries the key, the base URL per API) live in ``_wire``.
The key is applied per request by an :class:`httpx.Auth` that holds it as a
:class:`Secret`, so it is not among the client's default headers (httpx's ``repr`` masks
only ``Authorization``). Every request, redirects included, must stay on the model's
origin: httpx strips ``Authorization`` on a cross-origin redirect but not ``x-api-key`` or
``api-key``, so a redirect elsewhere is refused instead of followed.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

import httpx

from .._catalog import AUTHENTICATED, CLOUDFLARE_AI_BINDING
from .._errors import ClientError, Diagnostic
from .._protocol import WireProtocol
from .._secrets import Secret, is_credential_name, url_credentials
from .._urls import insecure_transport, is_loopback, read_url, url_scheme
from .._version import __version__
from ._wire import (
    AUTH_HEADERS,
    AZURE_API,
    CLOUDFLARE_GATEWAY,
    EXTRA_HEADERS,
    NEEDS_KEY,
    azure_api_version,
    azure_base_url,
    cloudflare_base_url,
    codex_base_url,
    header_value,
    key_headers,
    merged_headers,
    missing_key,
    unsupported,
    vertex_api_base,
    vertex_base_url,
    vertex_key,
)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0, pool=10.0)
USER_AGENT = f"flue-decl/{__version__} httpx/{httpx.__version__}"


UNSUPPORTED = {
    "bedrock-converse-stream": "Bedrock requests are signed with AWS SigV4; use boto3 / the "
    "AWS SDK with the model's baseUrl",
    CLOUDFLARE_AI_BINDING: "a Cloudflare AI binding is called through the Worker binding "
    "object (registry.binding(spec)), not over HTTP",
}


_KEYED = ("x-api-key", "authorization")


class _CredentialAuth(httpx.Auth):
    """Adds the credentials to each request: the key's header, credential headers, and
    credential query parameters, none of which is among the client's defaults."""

    def __init__(self, headers: Mapping[str, bytes], params: Sequence[tuple[str, str]]) -> None:
        self._headers = {name: Secret(value.decode("latin-1")) for name, value in headers.items()}
        self._params = [(name, Secret(value)) for name, value in params]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._headers:
            request.headers.encoding = "latin-1"  # each character a byte, as fetch sends it
        for name, value in self._headers.items():
            request.headers[name] = value.reveal()
        if self._params:
            request.url = request.url.copy_merge_params([(n, v.reveal()) for n, v in self._params])
        yield request

    def __repr__(self) -> str:
        return f"_CredentialAuth({sorted(self._headers)}, params={[n for n, _ in self._params]})"


class CrossOriginRequestError(httpx.RequestError):
    """A request (usually a redirect) would leave the model's origin, with its key."""


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _origin_guard(base: httpx.URL) -> Callable[[httpx.Request], None]:
    allowed = _origin(base)

    def check(request: httpx.Request) -> None:
        if _origin(request.url) != allowed:
            raise CrossOriginRequestError(
                f"refusing a request to {request.url.scheme}://{request.url.host} from a "
                f"client for {base.scheme}://{base.host}: credentials stay on their origin",
                request=request,
            )

    return check


def client_settings(
    model: Any,
    api_key: str | None,
    handler: Any = None,
    *,
    allow_plain_http: bool = False,
    env: Mapping[str, str] | None = None,
    env_names: Sequence[str] = (),
) -> dict[str, Any]:
    """base_url, headers and auth for a model, or a ClientError saying why there are none.
    ``api_key``: the key a request carries (``Registry.key_to_send``); None where there is
    none, which pi-ai refuses for its own APIs. ``env`` is where Vertex's project and
    location and Azure's API version are read."""
    api = model.api
    if api in UNSUPPORTED:
        raise unsupported(model, UNSUPPORTED[api])
    key = api_key or None
    if api == "google-vertex":  # "<authenticated>" or a placeholder: Google's credentials
        key = None if key == AUTHENTICATED else vertex_key(key)
    base_url = cloudflare_base_url(model, model.base_url, env or {})
    if api == "google-vertex" and (not base_url.strip() or "{location}" in base_url):
        base_url = vertex_base_url(model, key, env or {})
    elif api == "google-vertex":
        if key is None:  # Google's credentials: pi-ai needs the project and location then
            vertex_base_url(model, key, env or {})  # refuses without them
        base_url = vertex_api_base(base_url.strip())
    braced = re.search(r"\{([^{}]*)\}", base_url) if api == "mistral-conversations" else None
    if braced is not None:  # Mistral's SDK reads {name} in a server URL as a parameter
        raise unsupported(model, f"Parameter '{braced.group(1)}' is required (Mistral's SDK)")
    if api == "openai-codex-responses":
        base_url = codex_base_url(base_url)
    if api == AZURE_API:
        base_url = azure_base_url(base_url, env or {})
    scheme = url_scheme(base_url)
    if scheme not in ("http", "https"):
        raise unsupported(
            model, f"its base URL's scheme is `{scheme or '(none)'}`: its handler speaks it"
        )
    parsed = read_url(base_url)
    if parsed is None:
        raise unsupported(model, "its base URL is not a valid URL (as Flue's fetch reads URLs)")
    # The URL as Flue's fetch reads it (host lowercased, IPv4 in one spelling...): a
    # request goes where Flue's would, whatever reader httpx uses on its own.
    base_url = parsed.href
    if api in AUTH_HEADERS:
        keyed = key_headers(model, key) if key else {}
    elif isinstance(handler, WireProtocol) or callable(getattr(handler, "auth_headers", None)):
        try:
            keyed = dict(handler.auth_headers(key))
        except Exception as exc:  # the handler's code: reported, its message unread (a key?)
            raise unsupported(
                model, f"its handler's auth_headers raised {type(exc).__name__}"
            ) from None
    else:
        raise unsupported(
            model,
            f"the custom api `{api}` needs an ApiProvider handler with "
            "an auth_headers(api_key) method (see WireProtocol)",
        )
    credentials = model.credential_paths()
    defaults = {"User-Agent": USER_AGENT, **EXTRA_HEADERS.get(api, {})}
    configured = dict(model.headers or {})
    headers: dict[str, bytes] = {}
    secret_headers: dict[str, bytes] = {}
    sdk_headers: dict[str, str] = {}  # what an SDK is given (its own user agent stays)
    for name, value, from_key in merged_headers(model, defaults, keyed, configured):
        sent = header_value(model, name, value)
        if from_key or ("headers", name) in credentials:
            secret_headers[name] = sent
        else:
            headers[name] = sent
        if value is not defaults.get(name):
            sdk_headers[name] = sent.decode("latin-1")
    sent_auth = [v for n, v in {**headers, **secret_headers}.items() if n.lower() in _KEYED]
    gateway = model.provider == CLOUDFLARE_GATEWAY  # the key goes as cf-aig-authorization
    if api == "anthropic-messages" and keyed and not gateway and not any(sent_auth):
        # Anthropic's SDK (pi-ai's) sends nothing whose key is blank on the wire.
        raise unsupported(
            model, "Could not resolve authentication method: the key is blank (Anthropic's SDK)"
        )
    base_url, params, secret_params = _split_query(base_url)
    if api == AZURE_API and not any(name == "api-version" for name, _ in params):
        params.append(("api-version", azure_api_version(env or {})))
    sends_credentials = bool(
        any(secret_headers.values())
        or secret_params
        or ("baseUrl",) in credentials
        or url_credentials(base_url)  # `;key=` in the path
    )
    if sends_credentials and insecure_transport(base_url) and not allow_plain_http:
        raise ClientError(
            [
                Diagnostic.at(
                    "insecure-key-transport",
                    f"{model.spec}: refusing to send credentials over plain http:// to "
                    f"{parsed.hostname}",
                    None,
                    hint="use https://, or http:// for localhost; for a host on a trusted "
                    "network, say allowPlainHttp: true",
                )
            ]
        )
    if api_key is None and api in NEEDS_KEY:  # after the transport: what leaks comes first
        raise missing_key(model, env_names)
    return {
        "base_url": base_url,
        "params": params,
        "secret_params": secret_params,
        "headers": headers,
        # A blank key header still goes (pi-ai sends it), through the auth like any other.
        "auth": _CredentialAuth(secret_headers, secret_params)
        if secret_headers or secret_params
        else None,
        "sdk_headers": sdk_headers,  # for the SDKs' arguments (runtime._sdk), never shown
        "allow_plain_http": allow_plain_http,
    }


def _split_query(url: str) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    """``url`` without its query, its plain query parameters, and its credential ones:
    httpx would append request paths after a query left in the base URL."""
    parts = urllib.parse.urlsplit(url)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)  # names decoded

    def secret(name: str, value: str) -> bool:
        return bool(value) and is_credential_name(name)  # as url_credentials decides

    return (
        urllib.parse.urlunsplit(parts._replace(query="", fragment="")),
        [(k, v) for k, v in pairs if not secret(k, v)],
        [(k, v) for k, v in pairs if secret(k, v)],
    )


def _client_kwargs(
    settings: Mapping[str, Any],
    timeout: httpx.Timeout | float | None,
    hook: Callable[[httpx.Request], Any],
) -> dict[str, Any]:
    return {
        "base_url": httpx.URL(settings["base_url"]),
        "params": settings["params"],
        "headers": settings["headers"],
        "auth": settings["auth"],
        "timeout": DEFAULT_TIMEOUT if timeout is None else timeout,
        "follow_redirects": True,  # ... and the hook keeps every hop on the origin
        "event_hooks": {"request": [hook]},
        "trust_env": settings["allow_plain_http"] or not _proxied_in_clear(settings["base_url"]),
    }


def _proxied_in_clear(base_url: str) -> bool:
    """Whether an environment proxy off this machine would carry the plain-http requests
    for ``base_url``: it would read every header, the key included. Such a client sends
    directly instead (and reads nothing else from the environment: no .netrc either)."""
    if not base_url.startswith("http:"):  # a WHATWG href: the scheme in lowercase
        return False
    # NO_PROXY is not consulted: sending directly is what it would ask for anyway.
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get("http") or proxies.get("all")
    return bool(proxy) and not is_loopback(str(proxy))


def make_client(
    settings: Mapping[str, Any], *, timeout: httpx.Timeout | float | None, **kwargs: Any
) -> httpx.Client:
    guard = _origin_guard(httpx.URL(settings["base_url"]))
    ours = _client_kwargs(settings, timeout, guard)
    return httpx.Client(**_with_caller_auth(settings, ours, kwargs))


def make_async_client(
    settings: Mapping[str, Any], *, timeout: httpx.Timeout | float | None, **kwargs: Any
) -> httpx.AsyncClient:
    guard = _origin_guard(httpx.URL(settings["base_url"]))

    async def check(request: httpx.Request) -> None:
        guard(request)

    ours = _client_kwargs(settings, timeout, check)
    return httpx.AsyncClient(**_with_caller_auth(settings, ours, kwargs))


def _with_caller_auth(
    settings: Mapping[str, Any], ours: dict[str, Any], theirs: Mapping[str, Any]
) -> dict[str, Any]:
    """The caller's httpx arguments added to ours. ``auth=`` is theirs to give where the
    model sends no credential of its own (Vertex with Google credentials: an httpx.Auth
    that adds an OAuth2 token), under the same transport rule as a key; any other overlap
    is an error, as httpx would raise."""
    if "auth" in theirs and ours["auth"] is None:
        if insecure_transport(settings["base_url"]) and not settings["allow_plain_http"]:
            raise ClientError(
                [
                    Diagnostic.at(
                        "insecure-key-transport",
                        "refusing to send the credentials of auth= over plain http:// to "
                        f"{read_url(settings['base_url']).hostname}",  # type: ignore[union-attr]
                        None,
                        hint="use https://, or http:// for localhost; for a host on a "
                        "trusted network, say allowPlainHttp: true",
                    )
                ]
            )
        ours = {k: v for k, v in ours.items() if k != "auth"}
    clash = sorted(set(ours) & set(theirs))
    if clash:
        raise TypeError(f"flue-decl sets {', '.join(clash)} for this client")
    return {**ours, **theirs}
