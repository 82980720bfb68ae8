"""``probe``: call a cheap endpoint of every provider, concurrently, through the same clients
services use, and say per provider whether it answers, rejects the key, or cannot be reached.
Keys travel in the requests only; nothing printed ever holds one."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from dataclasses import dataclass

import httpx

from .._catalog import CLOUDFLARE_AI_BINDING
from .._errors import FlueDeclError
from .._secrets import MASK, mask_url
from ._clients import CrossOriginRequestError
from ._registry import Registry

# A cheap GET per wire protocol, relative to the model's base URL (model listings).
PROBE_PATHS = {
    "openai-completions": "models",
    "openai-responses": "models",
    "openai-codex-responses": "models",
    "azure-openai-responses": "models",
    "mistral-conversations": "models",
    "google-generative-ai": "models",
    "anthropic-messages": "v1/models",
}
# APIs with no plain HTTP request to probe, and why, in words that fit each.
SKIPPED_APIS = {
    CLOUDFLARE_AI_BINDING: "Cloudflare binding: called through the Worker, no HTTP endpoint",
    "bedrock-converse-stream": "Bedrock: requests are SigV4-signed by the AWS SDK; not probed",
    "google-vertex": "Vertex AI: no cheap request without Google credentials; not probed",
}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What probing one provider found.

    ``status``: ``ok`` (the endpoint answered 2xx), ``auth-rejected`` (401/403),
    ``not-found`` (404), ``http-error`` (another status), ``redirected`` (to another
    origin, not followed: ``detail`` names it), ``unreachable``, ``timeout``, or
    ``skipped`` (nothing to probe over HTTP: ``detail`` says why). ``note`` is
    ``unauthenticated-endpoint`` when the endpoint answered without the credentials too,
    so an ``ok`` says nothing about the key."""

    provider: str
    status: str
    latency_ms: float | None
    detail: str
    url: str | None
    note: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the provider answered as it should (a skipped one did not: see
        :attr:`probed`)."""
        return self.status == "ok"

    @property
    def probed(self) -> bool:
        return self.status != "skipped"


UNAUTHENTICATED = "unauthenticated-endpoint"


def probe_targets(registry: Registry) -> list[tuple[str, str]]:
    """(provider, a spec to probe it with): registered providers and configured built-ins."""
    targets: list[tuple[str, str]] = []
    for provider in registry.registered_providers():
        reg = registry.registration(provider) or {}
        models = list(reg.get("models") or {}) if isinstance(reg.get("models"), dict) else []
        targets.append((provider, f"{provider}/{models[0] if models else 'probe'}"))
    for provider in registry.configured_providers():
        if provider not in registry.registered_providers():
            models = list(registry.catalog.models(provider))
            if models:
                targets.append((provider, f"{provider}/{models[0]}"))
    return targets


def _skipped(provider: str, why: str) -> ProbeResult:
    return ProbeResult(provider, "skipped", None, why, None)


async def _probe_one(registry: Registry, provider: str, spec: str, timeout: float) -> ProbeResult:
    model = registry.resolve_model(spec)
    if model.api in SKIPPED_APIS:
        return _skipped(provider, SKIPPED_APIS[model.api])
    handler = registry.api_providers().get(model.api)
    path = PROBE_PATHS.get(model.api)
    if path is None:
        path = str(getattr(handler, "probe_path", "") or "")
        if not path:
            if handler is None:
                why = f"no cheap request to probe for api `{model.api}`"
            elif isinstance(handler, str):  # loaded without importing handlers
                why = (
                    f"api `{model.api}`: its handler `{handler}` is not imported (allow its "
                    "module with --handler-modules or FLUE_DECL_HANDLER_MODULES)"
                )
            else:
                why = f"api `{model.api}`: its handler has no probe_path"
            return _skipped(provider, why)
    parts = urllib.parse.urlsplit(path)
    if parts.scheme or parts.netloc or path.startswith(("/", "\\")):
        return _skipped(provider, f"api `{model.api}`: its probe_path is not a relative path")
    try:
        client = registry.async_http_client(spec, timeout=timeout)
    except FlueDeclError as exc:  # which model the probe used says nothing: the API does
        return _skipped(provider, exc.diagnostics[0].message.removeprefix(f"{spec}: "))
    started = time.perf_counter()
    # A base URL filled from a secret is shown as ***, as everywhere else.
    secret_url = ("baseUrl",) in model.credential_paths()
    url = MASK if secret_url else mask_url(str(client.base_url.join(path)))
    async with client:
        try:
            response = await client.get(path)
        except CrossOriginRequestError as exc:
            target = exc.request.url
            origin = f"{target.scheme}://{target.netloc.decode('ascii', 'replace')}"
            detail = f"redirected to {mask_url(origin)}; not followed (credentials stay)"
            return ProbeResult(provider, "redirected", None, detail, url)
        except httpx.TimeoutException:
            return ProbeResult(provider, "timeout", None, f"no answer within {timeout:g} s", url)
        except httpx.HTTPError as exc:
            return ProbeResult(provider, "unreachable", None, type(exc).__name__, url)
        latency = round((time.perf_counter() - started) * 1000, 1)
        code = response.status_code
        note = None
        if 200 <= code < 300 and client.auth is not None and not secret_url:
            note = await _answers_without_credentials(client, path)
    status = _STATUS.get(code, "ok" if 200 <= code < 300 else "http-error")
    return ProbeResult(provider, status, latency, f"HTTP {code}", url, note)


_STATUS = {401: "auth-rejected", 403: "auth-rejected", 404: "not-found"}


async def _answers_without_credentials(client: httpx.AsyncClient, path: str) -> str | None:
    """``unauthenticated-endpoint`` if ``path`` answers 2xx without any credential (a local
    Ollama, OpenRouter's listing): then the first answer did not check the key."""
    try:
        response = await client.get(path, auth=None)
    except httpx.HTTPError:
        return None
    return UNAUTHENTICATED if 200 <= response.status_code < 300 else None


async def _probe_all(registry: Registry, timeout: float) -> list[ProbeResult]:
    targets = probe_targets(registry)
    return list(await asyncio.gather(*(_probe_one(registry, p, s, timeout) for p, s in targets)))


def probe(registry: Registry, *, timeout: float = 10.0) -> list[ProbeResult]:
    """Probe every registered and configured provider of ``registry`` at once."""
    return asyncio.run(_probe_all(registry, timeout))
