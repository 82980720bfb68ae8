"""The resolved model value, and the steps of Flue's resolution that build it.

``Model`` is what ``Registry.resolve_model`` returns; ``from_registration`` and
``apply_settings`` are ``resolveModel``'s two steps for a registered provider (pi-ai's
``getModel`` for the catalog is ``Catalog``'s). JSON-shaped data is copied with each
mapping's keys in JavaScript's order, so the JSON text equals the reference runtime's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from .._catalog import CLOUDFLARE_AI_BINDING, CLOUDFLARE_CATALOG, Catalog
from .._domain import Op
from .._errors import Diagnostic, JsonPath, ResolveError, did_you_mean
from .._jsjson import js_order
from .._secrets import Secret, is_credential_name, mask_payload, reveal

_ZERO_COST = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0}


class Model:
    """A resolved model: immutable; ``to_dict()`` is the reference runtime's Model JSON."""

    __slots__ = ("_data",)
    _data: dict[str, Any]

    def __init__(self, data: Mapping[str, Any]) -> None:
        held: dict[str, Any] = json_copy(data)
        if isinstance(held.get("headers"), dict):  # credentials stay Secret while held
            held["headers"] = {
                k: Secret(v) if isinstance(v, str) and is_credential_name(k) else v
                for k, v in held["headers"].items()
            }
        object.__setattr__(self, "_data", held)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Model is immutable")

    def to_dict(self) -> dict[str, Any]:
        """The reference runtime's Model JSON, secrets shown, as a fresh copy."""
        result: dict[str, Any] = reveal(self._data)  # fresh containers all the way down
        return result

    def masked(self) -> dict[str, Any]:
        """:meth:`to_dict` as it may be shown: every credential (key, credential headers,
        fields filled from a secret) as ``***``, the baseUrl's userinfo and credential query
        values too."""
        return mask_payload(self._data)

    def credential_paths(self) -> frozenset[JsonPath]:
        """The paths of the fields that hold credentials (``("headers", "X-Api-Key")``,
        ``("baseUrl",)`` when it was filled from a secret)."""

        def walk(value: Any, path: JsonPath) -> Iterator[JsonPath]:
            if isinstance(value, Secret):
                yield path
            elif isinstance(value, Mapping):
                for k, v in value.items():
                    yield from walk(v, (*path, k))

        return frozenset(walk(self._data, ()))

    @property
    def id(self) -> str:
        return str(self._data["id"])

    @property
    def name(self) -> str:
        return str(self._data["name"])

    @property
    def api(self) -> str:
        return str(self._data["api"])

    @property
    def provider(self) -> str:
        return str(self._data["provider"])

    @property
    def base_url(self) -> str:
        return str(reveal(self._data["baseUrl"]))

    @property
    def reasoning(self) -> bool:
        return bool(self._data["reasoning"])

    @property
    def input(self) -> tuple[str, ...]:
        return tuple(self._data["input"])

    @property
    def cost(self) -> Mapping[str, float]:
        return MappingProxyType(dict(self._data["cost"]))

    @property
    def context_window(self) -> int:
        return int(self._data["contextWindow"])

    @property
    def max_tokens(self) -> int:
        return int(self._data["maxTokens"])

    @property
    def headers(self) -> Mapping[str, str] | None:
        headers = self._data.get("headers")
        return None if headers is None else MappingProxyType(reveal(headers))

    @property
    def spec(self) -> str:
        return f"{self.provider}/{self.id}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other._data == self._data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Model({self.spec!r}, api={self.api!r}, baseUrl={self.masked()['baseUrl']!r})"


def present(mapping: Mapping[str, Any] | None, key: str) -> bool:
    return mapping is not None and mapping.get(key) is not None


def coalesce(*values: Any) -> Any:
    """JavaScript's ``a ?? b ?? c``."""
    for value in values:
        if value is not None:
            return value
    return None


def json_copy(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists, scalars), each mapping's keys in the order
    a JavaScript object has them (array indices first): several times faster than
    deepcopy."""
    if isinstance(value, Mapping):
        return {k: json_copy(v) for k, v in js_order(value).items()}
    if isinstance(value, list | tuple):
        return [json_copy(v) for v in value]
    return value


Source = tuple[str, str | None, JsonPath | None]
"""What set a field of a resolved model, as resolution records it: a label, and the call
(``registerProvider``/``configureProvider``) and path in its payload where the value was
written, or None for a default or the catalog. ``explain`` shows these; it keeps no rules
of its own."""
Sources = dict[str, Source]  # by field, and "headers.NAME" for each header

_FLUE_DEFAULT: Source = ("Flue default for registered providers", None, None)
_REGISTERED = "provider registration"
_REGISTER, _CONFIGURE = Op.REGISTER_PROVIDER.value, Op.CONFIGURE_PROVIDER.value


def from_registration(
    catalog: Catalog,
    provider_id: str,
    reg: Mapping[str, Any],
    model_id: str,
    sources: Sources | None = None,
) -> dict[str, Any]:
    """A model of ``provider_id``'s registration ``reg``: Flue's ``resolveModel`` for a
    registered provider, before provider settings; with ``sources``, what set each field
    is recorded there."""
    if reg.get("api") == CLOUDFLARE_AI_BINDING:
        return _from_binding(catalog, provider_id, reg, model_id, sources)
    per_model = reg.get("models")
    override = per_model.get(model_id) if isinstance(per_model, Mapping) else None
    if not isinstance(override, Mapping):
        override = None
    data: dict[str, Any] = {
        "id": model_id,
        "name": model_id,
        "api": reg.get("api"),
        "provider": provider_id,
        "baseUrl": reg.get("baseUrl"),
        "reasoning": False,
        "input": ["text"],
        "cost": dict(_ZERO_COST),
        "contextWindow": coalesce(
            override.get("contextWindow") if override else None, reg.get("contextWindow"), 0
        ),
        "maxTokens": coalesce(
            override.get("maxTokens") if override else None, reg.get("maxTokens"), 0
        ),
        "headers": reg.get("headers"),
    }
    if sources is not None:
        specifier = ("model ID from the specifier", None, None)
        sources.update(id=specifier, name=specifier)
        sources["provider"] = ("provider ID from the specifier", None, None)
        for field in ("api", "baseUrl", "headers"):
            sources[field] = (_REGISTERED, _REGISTER, (field,))
        for field in ("reasoning", "input", "cost"):
            sources[field] = _FLUE_DEFAULT
        for field in ("contextWindow", "maxTokens"):
            if override is not None and override.get(field) is not None:
                sources[field] = ("per-model override", _REGISTER, ("models", model_id, field))
            elif reg.get(field) is not None:
                sources[field] = ("provider default", _REGISTER, (field,))
            else:
                sources[field] = _FLUE_DEFAULT
        for name in data["headers"] or {}:
            sources[f"headers.{name}"] = (_REGISTERED, _REGISTER, ("headers", name))
    return drop_none(data)


def _from_binding(
    catalog: Catalog,
    provider_id: str,
    reg: Mapping[str, Any],
    model_id: str,
    sources: Sources | None,
) -> dict[str, Any]:
    found = catalog.get_model(CLOUDFLARE_CATALOG, model_id)
    if found is not None:
        base = {**found, "api": CLOUDFLARE_AI_BINDING, "provider": provider_id, "baseUrl": ""}
        otherwise: Source = (f"catalog ({CLOUDFLARE_CATALOG})", None, None)
    else:
        base = {
            "id": model_id,
            "name": model_id,
            "api": CLOUDFLARE_AI_BINDING,
            "provider": provider_id,
            "baseUrl": "",
            "reasoning": False,
            "input": ["text"],
            "cost": dict(_ZERO_COST),
            "contextWindow": 0,
            "maxTokens": 0,
        }
        otherwise = ("default for a model not in the Workers AI catalog", None, None)
    base["binding"] = reg.get("binding")
    base["gateway"] = reg.get("gateway")
    if sources is not None:
        sources.update((field, otherwise) for field in base)
        sources.update((f"headers.{name}", otherwise) for name in base.get("headers") or {})
        for field in ("api", "provider", "baseUrl"):
            sources[field] = ("Cloudflare binding registration", _REGISTER, ("api",))
        for field in ("binding", "gateway"):
            sources[field] = (_REGISTERED, _REGISTER, (field,))
    return drop_none(base)


def from_catalog(found: Mapping[str, Any], label: str, sources: Sources | None) -> dict[str, Any]:
    """A catalog model as ``resolveModel`` starts from it; every field set by ``label``."""
    data = dict(found)
    if sources is not None:
        source: Source = (label, None, None)
        sources.update((field, source) for field in data)
        sources.update((f"headers.{name}", source) for name in data.get("headers") or {})
    return data


def apply_settings(
    model: dict[str, Any], settings: Mapping[str, Any] | None, sources: Sources | None = None
) -> dict[str, Any]:
    """``model`` with ``configureProvider``'s ``baseUrl`` and headers over it."""
    if settings is None:
        return model
    has_base_url = settings.get("baseUrl") is not None
    has_headers = settings.get("headers") is not None
    if not has_base_url and not has_headers:
        return model
    out = dict(model)
    out["baseUrl"] = coalesce(settings.get("baseUrl"), model.get("baseUrl"))
    if has_headers:
        out["headers"] = {**(model.get("headers") or {}), **settings["headers"]}
    if sources is not None:
        if has_base_url:
            sources["baseUrl"] = ("configureProvider", _CONFIGURE, ("baseUrl",))
        if has_headers:
            merged = "configureProvider headers merged over the model's"
            sources["headers"] = (merged, _CONFIGURE, ("headers",))
            for name in settings["headers"]:
                sources[f"headers.{name}"] = ("configureProvider", _CONFIGURE, ("headers", name))
    return drop_none(out)


def resolve(
    spec: str,
    *,
    catalog: Catalog,
    providers: Mapping[str, Mapping[str, Any]],
    settings: Mapping[str, Mapping[str, Any]],
    only: frozenset[str] | None,
    sources: Sources | None = None,
) -> Model:
    """Flue's ``resolveModel`` of ``spec`` over registered ``providers`` and provider
    ``settings``; raises :class:`ResolveError` with the runtime's message. ``only``: the
    providers a registry was loaded for (None: all)."""
    slash = spec.find("/")
    if slash == -1:
        raise _resolve_error(
            spec,
            f'[flue] Invalid model specifier "{spec}". Use the "provider-id/model-id" '
            'format (e.g. "anthropic/claude-haiku-4-5").',
        )
    provider_id, model_id = spec[:slash], spec[slash + 1 :]
    if only is not None and provider_id not in only:
        raise _resolve_error(
            spec,
            f'provider "{provider_id}" is not one this registry was loaded for '
            f"(providers={sorted(only)})",
        )
    registration = providers.get(provider_id)
    if registration is not None:
        if model_id == "":
            raise _resolve_error(
                spec,
                f'[flue] Invalid model specifier "{spec}". Provider ID "{provider_id}" is '
                "registered via registerProvider(), but no model ID was given. "
                f'Use "{provider_id}/<model-id>".',
            )
        data = from_registration(catalog, provider_id, registration, model_id, sources)
    else:
        found = catalog.get_model(provider_id, model_id)
        if found is None:
            raise _resolve_error(
                spec,
                f'[flue] Unknown model specifier "{spec}". Provider ID "{provider_id}" / '
                f'model ID "{model_id}" is not registered with @earendil-works/pi-ai or via '
                "registerProvider().",
                hint=_closest(catalog, providers, provider_id, model_id),
            )
        data = from_catalog(found, f"catalog ({catalog.source})", sources)
    return Model(apply_settings(data, settings.get(provider_id), sources))


def _closest(
    catalog: Catalog, providers: Collection[str], provider_id: str, model_id: str
) -> str | None:
    """A did-you-mean for a specifier that does not resolve: the closest model ID of the
    provider (``claude-sonnet-4.5`` -> ``claude-sonnet-4-5``), or provider ID."""
    models = catalog.models(provider_id)
    if models:
        prefix = f"{provider_id}/"
        hint = did_you_mean(model_id, models, prefix=prefix)
        if hint is None:  # the usual slip: dots for dashes
            spelled = model_id.replace(".", "-")
            hint = f"did you mean `{prefix}{spelled}`?" if spelled in models else None
        return hint
    return did_you_mean(provider_id, [*providers, *catalog.providers], suffix=f"/{model_id}")


def _resolve_error(spec: str, message: str, hint: str | None = None) -> ResolveError:
    return ResolveError(
        [
            Diagnostic.at(
                "unresolved-model",
                message,
                None,
                hint=hint if "/" in spec else "write provider-id/model-id",
                verbatim=(spec,),  # asked for by the caller: shown as given
            )
        ]
    )


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    # JSON.stringify leaves out undefined; so does the reference's Model JSON.
    return {k: v for k, v in data.items() if v is not None}
