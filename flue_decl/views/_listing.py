"""What ``list`` shows: one entry per declared api and provider, with effective limits."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .._catalog import CLOUDFLARE_AI_BINDING
from .._domain import KindName, Op
from .._secrets import mask_url
from ..runtime import Registry
from ..templates import credential_paths, is_template, render


def display_url(value: Any, env: Mapping[str, str]) -> str:
    """A base URL as a person wants to read it: rendered when ``env`` has what its
    template needs, else the template as written."""
    if not isinstance(value, str):
        return ""
    if is_template(value) and not credential_paths(KindName.PROVIDER, {"baseUrl": value}):
        rendered = render(value, env)
        value = rendered.value if rendered.value is not None else value
    return mask_url(value)  # a template that reads a secret stays as written


def _apis(models: Mapping[str, Mapping[str, Any]]) -> str:
    return ", ".join(sorted({str(m["api"]) for m in models.values()}))


def _limits(context_window: Any, max_tokens: Any) -> dict[str, Any]:
    return {"contextWindow": context_window, "maxTokens": max_tokens}


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
    catalog = registry.catalog

    def stored(provider: str) -> bool:
        return (registry.settings(provider) or {}).get("storeResponses") is True

    for provider in registered:
        reg = registry.registration(provider) or {}
        settings = registry.settings(provider)
        base = (settings or {}).get("baseUrl") or reg.get("baseUrl", "")
        binding = reg.get("api") == CLOUDFLARE_AI_BINDING
        limits = {}
        for model_id in {} if binding else reg.get("models") or {}:
            model = registry.resolve_model(f"{provider}/{model_id}")
            limits[model_id] = {
                "contextWindow": model.context_window,
                "maxTokens": model.max_tokens,
            }
        entry = {
            "id": provider,
            "kind": "registered" + (" + configured" if settings is not None else ""),
            "api": reg.get("api"),
            "baseUrl": display_url(base, env),
            "source": source(Op.REGISTER_PROVIDER, provider),
            "storeResponses": stored(provider),
            "anyModel": True,  # any other model ID resolves, with the defaults
            "defaults": None
            if binding
            else {
                "contextWindow": reg.get("contextWindow", 0),
                "maxTokens": reg.get("maxTokens", 0),
            },
            "models": limits,
        }
        if binding:
            entry["binding"] = reg.get("binding")
        entries.append(entry)
    built_ins = [p for p in configured if p not in registered]
    if with_catalog:
        built_ins += [p for p in catalog.providers if p not in registered and p not in configured]
    for provider in built_ins:
        models = catalog.models(provider)
        settings = registry.settings(provider)
        base = (settings or {}).get("baseUrl") or next((m["baseUrl"] for m in models.values()), "")
        entries.append(
            {
                "id": provider,
                "kind": "configured built-in" if settings is not None else "built-in",
                "api": _apis(models),
                "baseUrl": display_url(base, env),
                "source": source(Op.CONFIGURE_PROVIDER, provider) if settings else "catalog",
                "storeResponses": stored(provider),
                "anyModel": False,  # the catalog's models only
                "defaults": None,
                "models": {
                    model_id: _limits(m["contextWindow"], m["maxTokens"])
                    for model_id, m in models.items()
                },
            }
        )
    return entries


def model_rows(
    registry: Registry,
    *,
    providers: Collection[str] | None = None,
    with_catalog: bool = False,
) -> list[dict[str, Any]]:
    """Every model ID that resolves, with its limits and what they come from: a registered
    provider's per-model overrides, its defaults for any other ID (``provider/*``), and the
    catalog models of configured built-ins (with ``with_catalog``, of every built-in).
    ``providers`` keeps only those."""
    rows: list[dict[str, Any]] = []

    def where(op: Op, provider: str, path: tuple[str, ...]) -> str:
        origin = registry.origins(op, provider).get(path) or registry.origins(op, provider).get(())
        return f"{origin.place.file}:{origin.place.line}" if origin else ""

    for entry in listing(registry, env={}, with_catalog=with_catalog):
        provider = entry["id"]
        if entry["kind"] == "api" or (providers is not None and provider not in providers):
            continue
        if entry["kind"].endswith("built-in"):
            for model_id, limits in entry["models"].items():
                rows.append({"spec": f"{provider}/{model_id}", **limits, "source": "catalog"})
            continue
        for model_id, limits in entry["models"].items():
            override = where(Op.REGISTER_PROVIDER, provider, ("models", model_id))
            source = f"per-model override, {override}"
            rows.append({"spec": f"{provider}/{model_id}", **limits, "source": source})
        if entry["defaults"] is not None:
            defaults = f"registration defaults, {where(Op.REGISTER_PROVIDER, provider, ())}"
            rows.append({"spec": f"{provider}/*", **entry["defaults"], "source": defaults})
        else:  # a Cloudflare binding: any Workers AI model
            rows.append(
                {
                    "spec": f"{provider}/*",
                    "contextWindow": None,
                    "maxTokens": None,
                    "source": "any Workers AI model (catalog metadata when known)",
                }
            )
    return rows
