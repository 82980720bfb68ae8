"""``diff``: the effective change between two configurations, model by model.

Each side (a providers.d path or a compiled artifact) becomes a registry built from its
*unrendered* calls, so templates compare as written and no secret is needed or shown.
The models compared are every model a side can name: the per-model overrides of a
registered provider plus ``<id>/*`` for any other model ID, and every catalog model of
a configured built-in (configureProvider changes them all).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._artifact import read_artifact
from ._build import build_registry
from ._compile import Call
from ._errors import InputError, ValidationError
from ._pipeline import compile_paths
from ._registry import Registry
from ._render import is_template
from ._secrets import MASK, Secret, is_credential_header

ANY_MODEL = "*"
Fields = dict[str, Any]


def load_calls(path: str) -> tuple[Call, ...]:
    """The compiled calls of a providers.d path, or of an artifact (``*.json``)."""
    if path.endswith(".json") and os.path.isfile(path):
        return read_artifact(path)
    compilation = compile_paths([path])
    if compilation.input_failed:
        raise InputError(compilation.errors)
    if not compilation.ok:
        raise ValidationError(compilation.errors)
    return compilation.calls


def _shown(value: Any, *, secret: bool) -> Any:
    """Templates stay as written; a literal secret becomes a :class:`Secret`, which compares
    by value (so a changed key is a change) and prints as ``***``."""
    if secret and isinstance(value, str) and value and not is_template(value):
        return Secret(value)
    return value


def _key_source(registry: Registry, spec: str) -> str | Secret:
    provider_id = spec.split("/", 1)[0]
    kind, _ = registry.api_key_source(spec)
    if kind in ("configureProvider", "registerProvider"):
        return _shown(registry.declared_api_key(provider_id, kind), secret=True)  # type: ignore[no-any-return]
    names = registry.catalog.api_key_env(registry.resolve_model(spec).provider)
    return f"env {' or '.join(names)}" if names else "none"


def effective(calls: Sequence[Call]) -> dict[str, Fields]:
    """Spec -> every effective field (model JSON + apiKey source + storeResponses)."""
    registry = build_registry(calls, env={}, import_handlers=False)
    specs: list[str] = []
    for provider in registry.registered_providers():
        reg = registry.registration(provider) or {}
        models = reg.get("models") if isinstance(reg.get("models"), Mapping) else {}
        specs += [f"{provider}/{m}" for m in models or {}] + [f"{provider}/{ANY_MODEL}"]
    for provider in registry.configured_providers():
        if provider not in registry.registered_providers():
            specs += [f"{provider}/{m}" for m in registry.catalog.models(provider)]
    out: dict[str, Fields] = {}
    for spec in dict.fromkeys(specs):
        model = registry.resolve_model(spec).to_dict()
        if isinstance(model.get("headers"), dict):
            model["headers"] = {
                k: _shown(v, secret=is_credential_header(k)) for k, v in model["headers"].items()
            }
        model["apiKey"] = _key_source(registry, spec)
        model["storeResponses"] = registry.store_responses(spec)
        out[spec] = model
    for api, handler in registry.api_providers().items():
        out[f"api:{api}"] = {"handler": handler}
    return out


@dataclass(frozen=True)
class Diff:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)
    still: tuple[str, ...] = ()  # specs present on both sides

    @property
    def equal(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def providers(self) -> tuple[list[str], list[str]]:
        def ids(specs: Sequence[str]) -> set[str]:
            return {s.split("/", 1)[0] for s in specs}

        return sorted(ids(self.added) - ids(self.still)), sorted(
            ids(self.removed) - ids(self.still)
        )


def compare(old: Mapping[str, Fields], new: Mapping[str, Fields]) -> Diff:
    changed: dict[str, dict[str, tuple[Any, Any]]] = {}
    both = [s for s in old if s in new]
    for spec in both:
        fields = {}
        for name in dict.fromkeys([*old[spec], *new[spec]]):
            before, after = old[spec].get(name), new[spec].get(name)
            if before != after:
                fields[name] = (before, after)
        if fields:
            changed[spec] = fields
    return Diff(
        added=tuple(s for s in new if s not in old),
        removed=tuple(s for s in old if s not in new),
        changed=changed,
        still=tuple(both),
    )


def diff_paths(old: str, new: str) -> Diff:
    return compare(effective(load_calls(old)), effective(load_calls(new)))


# -- output ---------------------------------------------------------------------------


def _groups(diff: Diff) -> list[tuple[str, dict[str, tuple[Any, Any]]]]:
    """Changed models, with a provider's models folded into one line when they changed alike."""
    by_provider: dict[str, list[str]] = {}
    for spec in diff.changed:
        by_provider.setdefault(spec.split("/", 1)[0], []).append(spec)
    out: list[tuple[str, dict[str, tuple[Any, Any]]]] = []
    for provider, specs in by_provider.items():
        first = diff.changed[specs[0]]
        alike = {k: v for k, v in first.items() if k not in ("id", "name")}
        if len(specs) > 2 and all(
            {k: v for k, v in diff.changed[s].items() if k not in ("id", "name")} == alike
            for s in specs
        ):
            out.append((f"{provider} ({len(specs)} models)", alike))
        else:
            out.extend((spec, diff.changed[spec]) for spec in specs)
    return out


def _fmt(value: Any) -> str:
    if value is None:
        return "(unset)"
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def render_text(diff: Diff) -> str:
    if diff.equal:
        return "no effective change"
    lines: list[str] = []
    providers_added, providers_removed = diff.providers()
    lines += [f"+ provider {p}" for p in providers_added]
    lines += [f"- provider {p}" for p in providers_removed]
    lines += [f"+ {s}" for s in diff.added]
    lines += [f"- {s}" for s in diff.removed]
    for label, fields in _groups(diff):
        lines.append(f"~ {label}")
        lines += [f"    {name}: {_fmt(a)} → {_fmt(b)}" for name, (a, b) in fields.items()]
    return "\n".join(lines)


def render_markdown(diff: Diff) -> str:
    if diff.equal:
        return "**flue-decl:** no effective change to the provider registry."
    out = ["### flue-decl: provider registry changes", ""]
    providers_added, providers_removed = diff.providers()
    for title, items in (
        ("Providers added", providers_added),
        ("Providers removed", providers_removed),
        ("Models added", list(diff.added)),
        ("Models removed", list(diff.removed)),
    ):
        if items:
            out.append(f"**{title}:** " + ", ".join(f"`{i}`" for i in items))
            out.append("")
    rows = [
        (label, name, a, b) for label, fields in _groups(diff) for name, (a, b) in fields.items()
    ]
    if rows:
        out += ["| model | field | before | after |", "| --- | --- | --- | --- |"]

        def cell(value: Any) -> str:
            return f"`{_fmt(value)}`".replace("|", "\\|")

        out += [f"| `{label}` | {name} | {cell(a)} | {cell(b)} |" for label, name, a, b in rows]
    return "\n".join(out)


def render_json(diff: Diff) -> str:
    providers_added, providers_removed = diff.providers()
    changed = [
        {"spec": spec, "changes": {k: {"old": a, "new": b} for k, (a, b) in fields.items()}}
        for spec, fields in diff.changed.items()
    ]
    data = {
        "equal": diff.equal,
        "providers": {"added": providers_added, "removed": providers_removed},
        "models": {"added": list(diff.added), "removed": list(diff.removed)},
        "changed": changed,
    }
    return json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    raise TypeError(f"cannot serialise {type(value).__name__}")


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
