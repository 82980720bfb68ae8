"""The effective change between two sets of calls, model by model.

Each side becomes a registry with its *unrendered* calls applied, so templates compare as
written and no secret is needed or shown.
The models compared are every model a side can name: the per-model overrides of a
registered provider plus ``<id>/*`` for any other model ID, and every catalog model of
a configured built-in (configureProvider changes them all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._domain import Call, Op
from .._errors import Diagnostic, TemplateError
from .._secrets import Secret, is_credential_name, url_credentials
from ..runtime import Registry
from ..runtime._render import render_calls
from ..runtime._secretfiles import SecretFiles
from ..templates import is_template

ANY_MODEL = "*"
Fields = dict[str, Any]


def unrendered_registry(calls: Sequence[Call]) -> Registry:
    """A registry with ``calls`` applied as written: templates unrendered, handlers kept as
    their import paths, no environment. For showing and comparing configuration."""
    registry = Registry(env={})
    for call in calls:
        registry.apply(call)
    return registry


def reviewed_registry(
    calls: Sequence[Call], env: Mapping[str, str], secrets: SecretFiles
) -> Registry:
    """A registry of ``calls`` rendered against ``env`` and ``secrets``, where a field whose
    variables or secret files are unset keeps its template (a reviewer holds no production
    secret); any other problem of rendering raises TemplateError. For showing only:
    handlers stay their import paths."""
    rendered, problems = render_calls(calls, env, secrets)
    blocking = [d for d in problems if d.code != "missing-env"]
    if blocking:
        raise TemplateError(sorted(blocking, key=Diagnostic.sort_key))
    registry = Registry(env=env)
    for call in rendered:  # rendered for this registry alone: handed over, not copied
        registry.apply(call, copy=False)
    return registry


def _shown(value: Any, *, secret: bool) -> Any:
    """Templates stay as written; a literal secret becomes a :class:`Secret`, which compares
    by value (so a changed key is a change) and prints as ``***``."""
    if secret and isinstance(value, str) and value and not is_template(value):
        return Secret(value)
    return value


def _key_source(registry: Registry, spec: str) -> str | Secret:
    provider_id = spec.split("/", 1)[0]
    kind, _ = registry.api_key_source(spec)
    if kind in (Op.CONFIGURE_PROVIDER, Op.REGISTER_PROVIDER):
        return _shown(registry.declared_api_key(provider_id, kind), secret=True)  # type: ignore[no-any-return]
    names = registry.catalog.api_key_env(registry.resolve_model(spec).provider)
    return f"env {' or '.join(names)}" if names else "none"


def effective(calls: Sequence[Call]) -> dict[str, Fields]:
    """Spec -> every effective field (model JSON + apiKey source + storeResponses)."""
    registry = unrendered_registry(calls)
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
                k: _shown(v, secret=is_credential_name(k)) for k, v in model["headers"].items()
            }
        if isinstance(model.get("baseUrl"), str):
            model["baseUrl"] = _shown(
                model["baseUrl"], secret=bool(url_credentials(model["baseUrl"]))
            )
        model["apiKey"] = _key_source(registry, spec)
        model["storeResponses"] = registry.store_responses(spec)
        out[spec] = model
    for api, handler in registry.api_providers().items():
        out[f"api:{api}"] = {"handler": handler}
    return out


@dataclass(frozen=True)
class Diff:
    """Specifiers added and removed, and per changed specifier each field's (old, new)."""

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
    """The difference between two results of :func:`effective`."""
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


def diff_calls(old: Sequence[Call], new: Sequence[Call]) -> Diff:
    """The effective change from the ``old`` calls to the ``new`` ones."""
    return compare(effective(old), effective(new))
