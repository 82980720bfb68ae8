"""The registry: what ``registerProvider``, ``configureProvider`` and
``registerApiProvider`` of ``@flue/runtime`` 0.11.1 keep, and the answers it gives from
them, resolved as the runtime resolves (``_model``: ``resolveModel``; ``_keys``: pi-ai
0.79.10's ``getEnvApiKey``). The conformance suite replays the same calls in node and
compares every answer. JavaScript's ``undefined`` is Python's missing key or ``None``: a
``None`` value behaves as if the key were absent.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

from .._catalog import (
    CLOUDFLARE_AI_BINDING,
    RESPONSES_APIS,
    Catalog,
    builtin_catalog,
)
from .._domain import Call, Op, Origin
from .._errors import ClientError, Diagnostic, JsonPath, did_you_mean, frames_dropped
from .._secrets import mask_payload, reveal
from ._keys import KeyEnvironment, env_api_key, key_to_send
from ._memo import Memo
from ._model import (
    Model,
    Sources,
    present,
    resolve,
)
from ._stored import Kept, Payloads, StoredOrigins, origins_of, stored_origins

if TYPE_CHECKING:
    import httpx


class Registry:
    """Registered providers, provider settings and API protocols, resolved like Flue does.

    ``env`` is the environment for API-key lookup (default: ``os.environ``, read at each
    lookup); of a given one, only the variables the lookup may read are kept, as Secrets.
    ``bindings`` maps Cloudflare binding names to the objects the host passes in.
    ``providers``: the registry serves only these provider IDs (a service's least
    privilege); resolving any other raises :class:`ResolveError`.

    Resolved models are remembered (see :class:`Memo`: bounded in entries and in
    specifier characters, oldest out first) until the next register or configure call.
    Any number of threads may resolve at once, and while one registers or configures.
    ``copy.copy`` and ``copy.deepcopy`` give an independent registry with the same calls
    applied; pickling is refused, since a registry holds credentials.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        catalog: Catalog | None = None,
        bindings: Mapping[str, Any] | None = None,
        providers: Collection[str] | None = None,
    ) -> None:
        self._env = None if env is None else KeyEnvironment(env)
        # Loaded for these providers only: any other would resolve without its configuration.
        self._only = None if providers is None else frozenset(providers)
        self._catalog: Catalog | None = catalog  # the built-in one: loaded on first use
        self._bindings = dict(bindings or {})
        self._providers = Payloads()
        self._settings = Payloads()
        self._apis: dict[str, Any] = {}
        # (op, target) -> origins, as plain values the collector stops tracking (see
        # ``_stored``): an artifact's packed, others as their rows.
        self._origins: dict[tuple[str, str], StoredOrigins] = {}
        self._plain_http: dict[tuple[str, str], bool] = {}  # (op, target) -> allowPlainHttp
        self._memo: Memo[Model] = Memo()

    def __copy__(self) -> Registry:
        """A registry with the same calls applied, sharing nothing that either can change
        (payloads are never mutated once stored, Secrets are immutable, and bindings and
        handlers are the host's objects, shared as they were given)."""
        twin = Registry(catalog=self._catalog, bindings=self._bindings, providers=self._only)
        twin._env = self._env  # immutable: shared
        twin._providers = self._providers.copy()
        twin._settings = self._settings.copy()
        twin._apis = dict(self._apis)
        twin._origins = dict(self._origins)
        twin._plain_http = dict(self._plain_http)
        return twin

    def __deepcopy__(self, memo: dict[int, Any]) -> Registry:
        return self.__copy__()  # nothing inside is mutable in place: see __copy__

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError(
            "a Registry holds credentials and cannot be pickled; "
            "pass the artifact's path and call load_artifact in the other process"
        )

    def __repr__(self) -> str:
        return (
            f"Registry(providers={sorted(self._providers)}, "
            f"configured={sorted(self._settings)}, apis={sorted(self._apis)})"
        )

    # -- the three registry calls -------------------------------------------------

    def register_provider(
        self,
        provider_id: str,
        registration: Mapping[str, Any],
        *,
        origins: Mapping[JsonPath, Origin] | None = None,
    ) -> None:
        """``registerProvider``: last write wins, no merging."""
        self.apply(Call(Op.REGISTER_PROVIDER, provider_id, registration, origins or {}))

    def configure_provider(
        self,
        provider_id: str,
        settings: Mapping[str, Any],
        *,
        origins: Mapping[JsonPath, Origin] | None = None,
    ) -> None:
        """``configureProvider``: replaces any earlier settings for the id."""
        self.apply(Call(Op.CONFIGURE_PROVIDER, provider_id, settings, origins or {}))

    def register_api_provider(
        self, api: str, handler: Any = None, *, origins: Mapping[JsonPath, Origin] | None = None
    ) -> None:
        """``registerApiProvider``: last write wins."""
        self._apis[api] = handler
        self._origins[(Op.REGISTER_API_PROVIDER.value, api)] = stored_origins(origins)

    def apply(self, call: Call, *, copy: bool = True) -> None:
        """Apply one call with rendered values. An ApiProvider call registers its handler
        as the payload names it (an import path): loading code imports handlers first.
        ``copy=False`` takes the payload over instead of copying it, for a payload nothing
        else holds or will change (JSON decoded for this registry alone, which is then kept
        as its JSON text: see ``_stored``)."""
        if call.op == Op.REGISTER_API_PROVIDER:
            self.register_api_provider(
                call.target, call.payload.get("handler"), origins=call.origins
            )
            return
        table = self._providers if call.op == Op.REGISTER_PROVIDER else self._settings
        table.put(call.target, call.payload, call.credentials, copy=copy)
        self._applied(call)

    def _apply_line(self, call: Call, line: bytes, values: list[tuple[JsonPath, str]]) -> None:
        """:meth:`apply` of an artifact's call, kept as its ``line`` (see ``_stored``)."""
        if call.op == Op.REGISTER_API_PROVIDER:
            self.apply(call)
            return
        table = self._providers if call.op == Op.REGISTER_PROVIDER else self._settings
        table.put_line(call.target, line, call.credentials, values)
        self._applied(call)

    def _keep(self, kept: Kept) -> None:
        """:meth:`_apply_line` of a call read from its start line alone (``_start``), for a
        registry being built: nothing resolved from it yet, no memo to invalidate."""
        table = self._providers if kept.op == Op.REGISTER_PROVIDER else self._settings
        table.keep(kept.target, kept.line, kept.start, kept.values)
        self._origins[key := (kept.op, kept.target)] = kept.origins
        if kept.plain_http:  # read with False by default (allows_plain_http)
            self._plain_http[key] = True

    def _applied(self, call: Call) -> None:
        # Keyed by the op's plain string: a tuple holding an enum member stays tracked by
        # the cyclic collector, one of plain strings does not (see ``_errors.Spot``).
        self._origins[(call.op.value, call.target)] = stored_origins(call.origins)
        self._plain_http[(call.op.value, call.target)] = call.allow_plain_http
        # After the new state is in place: a model resolved from the old one is never
        # remembered once this returns (resolution depends on every call so far).
        self._memo.invalidate()

    # -- queries ------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = builtin_catalog()
        return self._catalog

    def registered_providers(self) -> tuple[str, ...]:
        return tuple(self._providers)

    def configured_providers(self) -> tuple[str, ...]:
        return tuple(self._settings)

    def api_providers(self) -> Mapping[str, Any]:
        return MappingProxyType(self._apis)

    def registration(self, provider_id: str) -> dict[str, Any] | None:
        """The registration as given, with secrets shown as ``***``."""
        reg = self._providers.get(provider_id)
        return None if reg is None else mask_payload(reg)

    def settings(self, provider_id: str) -> dict[str, Any] | None:
        """The settings as configured, with secrets shown as ``***``."""
        settings = self._settings.get(provider_id)
        return None if settings is None else mask_payload(settings)

    @frames_dropped
    def binding(self, spec: str) -> Any:
        """The host object for a Cloudflare binding provider's model, as passed in
        ``bindings``. Raises ``ClientError`` for a model that is not a binding's, or whose
        binding was not passed in (naming what was, with a did-you-mean)."""
        model = self.resolve_model(spec)
        name = model.to_dict().get("binding")
        if not isinstance(name, str):
            raise _client_error(f"{spec}: api `{model.api}` is not a Cloudflare binding")
        if name not in self._bindings:
            given = ", ".join(sorted(self._bindings)) or "none"
            raise _client_error(
                f"{spec}: no binding object named `{name}` was passed in (bindings: {given})",
                did_you_mean(name, self._bindings) or f"pass bindings={{{name!r}: env.{name}}}",
            )
        return self._bindings[name]

    def resolve_model(self, spec: str) -> Model:  # the hot path: no wrapper (its frames
        # hold payloads whose secrets are Secrets, and no environment)
        """Resolve ``provider-id/model-id`` exactly as Flue's ``resolveModel`` does; raises
        :class:`ResolveError` with the runtime's message when it does not resolve."""
        model = self._memo.get(spec)
        if model is not None:
            return model
        version = self._memo.version  # before reading the state the model comes from
        model = self._resolve(spec)  # errors are not remembered
        self._memo.put(spec, model, version)
        return model

    @frames_dropped
    def sources(self, spec: str) -> Sources:
        """What set each field of ``spec``'s model, as resolution records it (see
        :data:`Source`): a label and the call and path where the value was written. Not
        remembered: what ``explain`` asks, once."""
        sources: Sources = {}
        self._resolve(spec, sources)
        return sources

    def _resolve(self, spec: str, sources: Sources | None = None) -> Model:
        return resolve(
            spec,
            catalog=self.catalog,
            providers=self._providers,
            settings=self._settings,
            only=self._only,
            sources=sources,
        )

    @frames_dropped
    def api_key(self, spec: str) -> str | None:
        """The key a request for ``spec`` would carry: configured, registered, then env."""
        model = self.resolve_model(spec)
        provider_id = spec[: spec.find("/")]
        source = self.api_key_source(spec)
        if source[0] == Op.CONFIGURE_PROVIDER:
            return str(reveal(self._settings[provider_id]["apiKey"]))
        if source[0] == Op.REGISTER_PROVIDER:
            return str(reveal(self._providers[provider_id]["apiKey"]))
        return env_api_key(model.provider, self._environ(), self.catalog)

    @frames_dropped
    def api_key_source(self, spec: str) -> tuple[str, str | None]:
        """Which step supplies the key: (``configureProvider`` | ``registerProvider`` | ``env``
        | ``none``, the environment variable or ``None``)."""
        model = self.resolve_model(spec)
        provider_id = spec[: spec.find("/")]
        if present(self._settings.get(provider_id), "apiKey"):
            return (Op.CONFIGURE_PROVIDER, None)
        registration = self._providers.get(provider_id)
        if (
            registration is not None
            and registration.get("api") != CLOUDFLARE_AI_BINDING
            and present(registration, "apiKey")
        ):
            return (Op.REGISTER_PROVIDER, None)
        env = self._environ()
        for name in self.catalog.api_key_env(model.provider):
            if env.get(name):
                return ("env", name)
        if env_api_key(model.provider, env, self.catalog) is not None:
            return ("env", None)
        return ("none", None)

    @frames_dropped
    def key_to_send(self, spec: str) -> str | None:
        """The key a request for ``spec`` carries (see :func:`key_to_send`): the environment
        read now, from ``env`` or ``os.environ`` as it is at this call. None: there is no
        key, and pi-ai sends nothing. :meth:`api_key` reports what resolution says (an
        empty ``apiKey`` stays empty); this is what goes on the wire."""
        model = self.resolve_model(spec)
        provider_id = spec[: spec.find("/")]
        return key_to_send(
            model.provider,
            self._settings.get(provider_id),
            self._providers.get(provider_id),
            self._environ(),
            self.catalog,
        )

    def declared_api_key(self, provider_id: str, op: str) -> str | None:
        """The ``apiKey`` as the registerProvider or configureProvider call holds it."""
        table = self._settings if op == Op.CONFIGURE_PROVIDER else self._providers
        value = (table.get(provider_id) or {}).get("apiKey")
        return None if value is None else str(reveal(value))

    def store_responses(self, spec: str) -> bool:
        """Whether requests for ``spec`` send ``store: true``."""
        model = self.resolve_model(spec)
        settings = self._settings.get(spec[: spec.find("/")])
        return (
            model.api in RESPONSES_APIS
            and settings is not None
            and settings.get("storeResponses") is True
        )

    @frames_dropped
    def http_client(self, spec: str, *, timeout: Any = None, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` for ``spec``: its base URL, headers (configureProvider's merged
        in) and API key in the header its wire protocol uses; redirects stay on its origin.

        Raises :class:`ClientError` for APIs that are not plain HTTP
        (Bedrock's signed requests, a Cloudflare binding) or an unsafe transport."""
        from ._clients import make_client  # httpx: only for services that ask for a client

        return make_client(self._client_settings(spec), timeout=timeout, **kwargs)

    @frames_dropped
    def async_http_client(
        self, spec: str, *, timeout: Any = None, **kwargs: Any
    ) -> httpx.AsyncClient:
        """Like :meth:`http_client`, as an ``httpx.AsyncClient``."""
        from ._clients import make_async_client

        return make_async_client(self._client_settings(spec), timeout=timeout, **kwargs)

    @frames_dropped
    def openai_kwargs(self, spec: str) -> dict[str, Any]:
        """Arguments for ``openai.OpenAI(**kw)`` (and ``AsyncOpenAI``; ``AzureOpenAI`` for
        Azure's responses API, with ``api_version``): base URL, key, merged headers. The
        transport rule of :meth:`http_client` holds; other APIs raise ``ClientError``."""
        from ._sdk import openai_kwargs

        model = self.resolve_model(spec)
        settings = self._client_settings(spec)
        return openai_kwargs(model, str(self.key_to_send(spec)), settings)

    @frames_dropped
    def anthropic_kwargs(self, spec: str) -> dict[str, Any]:
        """Arguments for ``anthropic.Anthropic(**kw)`` (and ``AsyncAnthropic``)."""
        from ._sdk import anthropic_kwargs

        model = self.resolve_model(spec)
        settings = self._client_settings(spec)
        return anthropic_kwargs(model, str(self.key_to_send(spec)), settings)

    @frames_dropped
    def request_defaults(self, spec: str) -> dict[str, Any]:
        """Per-request arguments as the runtime sends them: the model's token limit and, for
        the responses APIs, ``store``."""
        from ._sdk import request_defaults

        return request_defaults(self.resolve_model(spec), self.store_responses(spec))

    def _client_settings(self, spec: str) -> dict[str, Any]:
        from ._clients import client_settings

        model = self.resolve_model(spec)
        return client_settings(
            model,
            self.key_to_send(spec),
            self._apis.get(model.api),
            allow_plain_http=self.allows_plain_http(model.provider),
            env=self._environ(),
            env_names=self.catalog.api_key_env(model.provider),
        )

    def allows_plain_http(self, provider_id: str) -> bool:
        """Whether the provider's registration or configuration says ``allowPlainHttp:
        true``: credentials may then travel over plain http:// to its host."""
        return any(
            self._plain_http.get((op, provider_id), False)
            for op in (Op.REGISTER_PROVIDER, Op.CONFIGURE_PROVIDER)
        )

    def origins(self, op: str, target: str) -> Mapping[JsonPath, Origin]:
        """Where each field of the last ``op`` call for ``target`` came from (empty for
        calls made in code without origins)."""
        stored = self._origins.get((op, target), {})
        return MappingProxyType(dict(origins_of(stored)))

    # -- internals ----------------------------------------------------------------

    def _environ(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env


def _client_error(message: str, hint: str | None = None) -> ClientError:
    return ClientError([Diagnostic.at("client-unsupported", message, None, hint=hint)])
