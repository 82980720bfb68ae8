"""What ``list`` shows: one entry per declared api and provider, with effective limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._catalog import CLOUDFLARE_AI_BINDING
from .._domain import Op
from .._secrets import mask_url
from ..runtime import Registry
from ..templates import credential_paths, is_template, render


def display_url(value: Any, env: Mapping[str, str]) -> str:
    """A base URL as a person wants to read it: rendered when ``env`` has what its
    template needs, else the template as written."""
    if not isinstance(value, str):
        return ""
    if is_template(value) and not credential_paths("Provider", {"baseUrl": value}):
        rendered = render(value, env)
        value = rendered.value if rendered.value is not None else value
    return mask_url(value)  # a template that reads a secret stays as written


def _apis(models: Mapping[str, Mapping[str, Any]]) -> str:
    return ", ".join(sorted({str(m["api"]) for m in models.values()}))


def listing(
    registry: Registry, *, env: Mapping[str, str], with_catalog: bool = False
) -> list[dict[str, Any]]:
    """Entries for every declared api, registered provider and configured built-in (then,
    with ``with_catalog``, every untouched built-in), from a registry of unrendered calls
    (see ``unrendered_registry``). A registered provider's models carry the limits
    ``resolve_model`` gives them."""

    def source(op: Op, target: str) -> str:
        origin = registry.origins(op, target).get(())
        return f"{origin.place.file}:{origin.place.line}" if origin else ""

    entries: list[dict[str, Any]] = []
    for api, handler in registry.api_providers().items():
        entry = {"id": api, "kind": "api", "handler": handler}
        entries.append({**entry, "source": source(Op.REGISTER_API_PROVIDER, api)})
    registered = registry.registered_providers()
    configured = registry.configured_providers()
    for provider in registered:
        reg = registry.registration(provider) or {}
        settings = registry.settings(provider)
        base = (settings or {}).get("baseUrl") or reg.get("baseUrl", "")
        entry = {
            "id": provider,
            "kind": "registered" + (" + configured" if settings is not None else ""),
            "api": reg.get("api"),
            "baseUrl": display_url(base, env),
            "source": source(Op.REGISTER_PROVIDER, provider),
        }
        if reg.get("api") == CLOUDFLARE_AI_BINDING:
            entry["binding"] = reg.get("binding")
            entry["models"] = "any Workers AI model ID (catalog metadata when known)"
        else:
            entry["defaults"] = {
                "contextWindow": reg.get("contextWindow", 0),
                "maxTokens": reg.get("maxTokens", 0),
            }
            limits = {}
            for model_id in reg.get("models") or {}:
                model = registry.resolve_model(f"{provider}/{model_id}")
                limits[model_id] = {
                    "contextWindow": model.context_window,
                    "maxTokens": model.max_tokens,
                }
            entry["models"] = limits
        entries.append(entry)
    catalog = registry.catalog
    for provider in configured:
        if provider in registered:
            continue
        settings = registry.settings(provider) or {}
        models = catalog.models(provider)
        base = settings.get("baseUrl") or next((m["baseUrl"] for m in models.values()), "")
        entries.append(
            {
                "id": provider,
                "kind": "configured built-in",
                "api": _apis(models),
                "baseUrl": display_url(base, env),
                "source": source(Op.CONFIGURE_PROVIDER, provider),
                "models": f"{len(models)} catalog models",
                "storeResponses": settings.get("storeResponses", False),
            }
        )
    if with_catalog:
        for provider, data in catalog.providers.items():
            if provider in registered or provider in configured:
                continue
            models = data["models"]
            entries.append(
                {
                    "id": provider,
                    "kind": "built-in",
                    "api": _apis(models),
                    "baseUrl": next((str(m["baseUrl"]) for m in models.values()), ""),
                    "source": "catalog",
                    "models": f"{len(models)} catalog models",
                }
            )
    return entries
