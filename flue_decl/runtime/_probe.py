"""``probe``: call a cheap endpoint of every provider, concurrently, through the same clients
services use, and say per provider whether it answers, rejects the key, or cannot be reached.
Keys travel in the requests only; nothing printed ever holds one."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from .._catalog import CLOUDFLARE_AI_BINDING
from .._errors import ConfigError
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


@dataclass(frozen=True, slots=True)
class ProbeResult:
    provider: str
    status: str  # ok | auth-rejected | not-found | http-error | unreachable | timeout | skipped
    latency_ms: float | None
    detail: str
    url: str | None

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skipped")


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


async def _probe_one(registry: Registry, provider: str, spec: str, timeout: float) -> ProbeResult:
    model = registry.resolve_model(spec)
    if model.api == CLOUDFLARE_AI_BINDING:
        return ProbeResult(provider, "skipped", None, "Cloudflare binding: no HTTP endpoint", None)
    handler = registry.api_providers().get(model.api)
    path = PROBE_PATHS.get(model.api) or str(getattr(handler, "probe_path", ""))
    try:
        client = registry.async_http_client(spec, timeout=timeout)
    except ConfigError as exc:
        return ProbeResult(provider, "skipped", None, exc.diagnostics[0].message, None)
    if not path and model.api not in PROBE_PATHS:
        await client.aclose()
        return ProbeResult(
            provider,
            "skipped",
            None,
            f"no probe for api `{model.api}` (its handler has no probe_path)",
            None,
        )
    started = time.perf_counter()
    url = str(client.base_url.join(path))
    try:
        async with client:
            response = await client.get(path)
    except httpx.TimeoutException:
        return ProbeResult(provider, "timeout", None, f"no answer within {timeout:g} s", url)
    except httpx.HTTPError as exc:
        return ProbeResult(provider, "unreachable", None, type(exc).__name__, url)
    latency = round((time.perf_counter() - started) * 1000, 1)
    code = response.status_code
    if 200 <= code < 300:
        status = "ok"
    elif code in (401, 403):
        status = "auth-rejected"
    elif code == 404:
        status = "not-found"
    else:
        status = "http-error"
    return ProbeResult(provider, status, latency, f"HTTP {code}", url)


async def _probe_all(registry: Registry, timeout: float) -> list[ProbeResult]:
    targets = probe_targets(registry)
    return list(await asyncio.gather(*(_probe_one(registry, p, s, timeout) for p, s in targets)))


def probe(registry: Registry, *, timeout: float = 10.0) -> list[ProbeResult]:
    """Probe every registered and configured provider of ``registry`` at once."""
    return asyncio.run(_probe_all(registry, timeout))
