"""``explain``: every effective field of a resolved model and what set it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._domain import Op, Origin
from ..runtime import Registry
from ..templates import is_template, references, render
from ._resolve import shown_key


@dataclass(frozen=True, slots=True)
class Row:
    """One effective field of a model, what set it, and where (when a file did)."""

    field: str
    value: Any
    source: str  # what set it: catalog, provider default, per-model override, ...
    origin: Origin | None = None

    def where(self) -> str:
        if self.origin is None:
            return ""
        o = self.origin
        layer = f"layer {o.layer + 1} ({o.layer_root})"
        return f"{o.place.file}:{o.place.line}, {layer}{', overlay' if o.overlay else ''}"

    def to_json(self) -> dict[str, Any]:
        o = self.origin
        return {
            "field": self.field,
            "value": self.value,
            "source": self.source,
            "file": o.place.file if o else None,
            "line": o.place.line if o else None,
            "layer": o.layer_root if o else None,
            "overlay": o.overlay if o else None,
        }


def explain(
    registry: Registry,
    spec: str,
    *,
    show_secrets: bool = False,
    environment: Mapping[str, str] | None = None,
) -> list[Row]:
    """Every effective field of ``spec``'s model, its key and ``storeResponses``, each with
    what set it; raises ResolveError as ``resolve_model`` does. A field that still holds
    its template (a variable unset: see the command line's review registry) says which of
    its variables ``environment`` lacks (all it reads, without one)."""
    resolved = registry.resolve_model(spec)
    model = resolved.to_dict() if show_secrets else resolved.masked()
    provider_id = spec.split("/", 1)[0]
    settings = registry.settings(provider_id) or {}
    reg_at = registry.origins(Op.REGISTER_PROVIDER, provider_id)
    conf_at = registry.origins(Op.CONFIGURE_PROVIDER, provider_id)
    sources = registry.sources(spec)  # what resolution recorded: no rules of its own here

    raw = resolved.to_dict()
    raw_values = {**raw, **{f"headers.{k}": v for k, v in (raw.get("headers") or {}).items()}}

    def row(field: str, value: Any) -> Row:
        label, op, path = sources[field]
        at = {Op.REGISTER_PROVIDER.value: reg_at, Op.CONFIGURE_PROVIDER.value: conf_at}
        origin = at[op].get(path) if op is not None and path is not None else None
        return Row(field, value, label + _unset(raw_values.get(field), environment), origin)

    rows: list[Row] = []
    for field, value in model.items():
        if field == "headers" and isinstance(value, dict):
            # One row per header: each may come from another call, file or layer.
            rows.extend(row(f"headers.{name}", shown) for name, shown in value.items())
        else:
            rows.append(row(field, value))

    kind, variable = registry.api_key_source(spec)
    key = registry.api_key(spec)
    shown = shown_key(key, show_secrets=show_secrets)
    unset = _unset(key, environment)
    if kind == Op.CONFIGURE_PROVIDER:
        rows.append(Row("apiKey", shown, "configureProvider" + unset, conf_at.get(("apiKey",))))
    elif kind == Op.REGISTER_PROVIDER:
        where = reg_at.get(("apiKey",))
        rows.append(Row("apiKey", shown, "provider registration" + unset, where))
    elif kind == "env":
        label = (
            f"environment variable {variable}" if variable else "SDK credentials in the environment"
        )
        rows.append(Row("apiKey", shown, label))
    else:
        names = ", ".join(registry.catalog.api_key_env(model["provider"]))
        rows.append(Row("apiKey", None, f"none (set {names})" if names else "none"))
    store = registry.store_responses(spec)
    store_origin = conf_at.get(("storeResponses",))
    store_source = "configureProvider" if store_origin else "default"
    if settings.get("storeResponses") is True and not store:
        store_source = f"configureProvider (ignored: api {model['api']} has no stored responses)"
    rows.append(Row("storeResponses", store, store_source, store_origin))
    if registry.allows_plain_http(provider_id):
        for op, label in (
            (Op.CONFIGURE_PROVIDER, "configureProvider"),
            (Op.REGISTER_PROVIDER, "provider registration"),
        ):
            origin = registry.origins(op, provider_id).get(("allowPlainHttp",))
            if origin is not None:
                rows.append(Row("allowPlainHttp", True, label, origin))
                break
        else:
            rows.append(Row("allowPlainHttp", True, "provider registration"))
    return rows


def _unset(value: Any, environment: Mapping[str, str] | None) -> str:
    """What a field still holding its template (a variable unset where explain runs: a
    reviewer without the production secrets) says about where its value comes from."""
    if not is_template(value):
        return ""
    read = references(value)
    if environment is not None:
        missing = set(render(value, environment).missing)
        read = tuple(r for r in read if r.key in missing)
    names = ", ".join(
        f"secret file {r.name}" if r.kind == "secret" else r.name for r in read
    ) or "nothing"
    return f"; from the environment, unset here ({names}): shown as its template"
