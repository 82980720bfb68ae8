"""From compiled calls to a Registry: render every template (``_render``), import handlers
(``_handlers``), apply.

:func:`build_registry` is the one way a registry is made from calls, whether they come
from a providers.d tree or an artifact: in one pass over them, each call rendered and
applied in turn (an artifact's decoded as it is read, its payloads kept packed: see
``_decode`` and ``_stored``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._catalog import Catalog, builtin_catalog
from .._domain import Call, Op
from .._errors import (
    Diagnostic,
    TemplateError,
    ValidationError,
    did_you_mean,
    frames_dropped,
)
from .._service import ServiceOptions
from ._handlers import (
    handler_allow_list,
    import_handlers_of,
    not_allowed,
    schemes_not_declared,
)
from ._lines import Calls
from ._registry import Registry
from ._render import Rendering
from ._secretfiles import SecretFiles
from ._start import lean
from ._stored import Kept


@frames_dropped
def build_registry(
    calls: Sequence[Call],
    *,
    options: ServiceOptions | None = None,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool | None = None,
    handler_modules: Sequence[str] | None = None,
    providers: Iterable[str] | None = None,
    secrets_dir: str | os.PathLike[str] | None = None,
    catalog: Catalog | None = None,
    owned: bool = False,
) -> Registry:
    """A Registry from compiled ``calls``: every template rendered against ``env`` (default
    ``os.environ``), each ApiProvider's handler imported (unless ``import_handlers`` is
    false: the handler stays its import path), the calls applied in order.

    ``secrets_dir``: where ``secret.NAME`` is read (default ``FLUE_DECL_SECRETS_DIR``, else
    /run/secrets). ``providers``: serve only these provider IDs (see :func:`select_calls`):
    only their calls are rendered, so only their variables are needed, and the registry
    refuses to resolve any other provider.

    A handler is imported only from a module under one of ``handler_modules`` (module name
    prefixes; default: ``FLUE_DECL_HANDLER_MODULES``, comma-separated); with no list, any
    handler is refused. Raises :class:`TemplateError` with every rendering problem (all
    missing variables at once) or :class:`ValidationError` (``handler-not-allowed``,
    ``handler-import``). ``owned``: nothing else holds the calls' payloads (decoded from an
    artifact for this registry), so they are taken over instead of copied. ``options``: a
    :class:`ServiceOptions` for all of these at once; a keyword given wins over its field.
    """
    service = ServiceOptions.given(
        options,
        env=env,
        bindings=bindings,
        import_handlers=import_handlers,
        handler_modules=handler_modules,
        providers=providers,
        secrets_dir=secrets_dir,
    )
    return _build(calls, service, catalog, owned)


def _build(
    calls: Sequence[Call], service: ServiceOptions, catalog: Catalog | None, owned: bool
) -> Registry:
    providers, import_handlers = service.providers, service.import_handlers
    env, bindings, secrets_dir = service.env, service.bindings, service.secrets_dir
    # An artifact's calls are decoded afresh for each reader: their payloads are this
    # registry's, kept packed (``_stored``).
    owned = owned or isinstance(calls, Calls)
    if providers is not None:
        calls = select_calls(calls, providers, catalog or builtin_catalog())
    environ = dict(os.environ) if env is None else dict(env)
    registry = Registry(env=env, catalog=catalog, bindings=bindings, providers=providers)
    # One pass: each call is rendered and applied, and nothing of it is kept but what the
    # checks across calls need (a slim view for the transport rule, the few calls of custom
    # protocols): a reload of 10,000 calls leaves no objects for the cyclic collector.
    rendering = Rendering(calls, environ, SecretFiles(secrets_dir))
    api_calls: list[Call] = []
    custom_calls: list[Call] = []
    # An artifact of this flue-decl is read from its start lines (``_start``).
    current = isinstance(calls, Calls) and calls.current
    for call in lean(rendering, calls) if isinstance(calls, Calls) and current else rendering:
        if isinstance(call, Kept):
            if not rendering.diagnostics:
                registry._keep(call)
            continue
        if call.op == Op.REGISTER_API_PROVIDER:
            api_calls.append(call)
        else:
            if call.target in rendering.custom:
                custom_calls.append(call)
            if rendering.diagnostics:  # a registry that will be thrown away: not built
                continue
            if rendering.line is not None:  # kept as the artifact wrote it (``_stored``)
                registry._apply_line(call, rendering.line, rendering.values)
            else:
                registry.apply(call, copy=not owned)
    if import_handlers:
        allowed = handler_allow_list(service.handler_modules)
        refused = [not_allowed(c, allowed) for c in api_calls]
        if any(refused):
            raise ValidationError([d for d in refused if d is not None])
    problems = rendering.finish()
    if problems:
        raise TemplateError(sorted(problems, key=Diagnostic.sort_key))
    if import_handlers:
        handlers = import_handlers_of(api_calls)
        undeclared = schemes_not_declared([*api_calls, *custom_calls], handlers)
        if undeclared:
            raise ValidationError(undeclared)
        for call in api_calls:
            registry.register_api_provider(call.target, handlers[call.target], origins=call.origins)
    else:
        for call in api_calls:
            registry.apply(call)
    return registry


def select_calls(
    calls: Sequence[Call], providers: Sequence[str], catalog: Catalog, *, strict: bool = True
) -> tuple[Call, ...]:
    """The calls a registry serving only ``providers`` needs: their registrations and
    configurations, and the ApiProviders of the protocols they speak. ``strict``: a provider
    neither declared in ``calls`` nor built in is an error (``unknown-provider``, with a
    did-you-mean), not an empty selection."""
    wanted = set(providers)
    declared: set[str] = set()
    candidates = []  # in order: every ApiProvider, and the wanted providers' calls
    for call in calls:  # once: an artifact's calls are decoded at each pass
        if call.op != Op.REGISTER_API_PROVIDER:
            declared.add(call.target)
        if call.op == Op.REGISTER_API_PROVIDER or call.target in wanted:
            candidates.append(call)
    known = declared | set(catalog.providers)
    unknown = [p for p in dict.fromkeys(providers) if p not in known]
    if strict and unknown:
        raise ValidationError(
            [
                Diagnostic.at(
                    "unknown-provider",
                    f"provider `{p}` is neither declared in the configuration nor built in"
                    + (f" ({nearest})" if nearest else ""),
                    None,
                    hint=nearest,
                )
                for p in unknown
                for nearest in [did_you_mean(p, known)]
            ]
        )
    apis = {c.payload.get("api") for c in candidates if c.op == Op.REGISTER_PROVIDER}
    return tuple(
        c for c in candidates if c.op != Op.REGISTER_API_PROVIDER or c.target in apis
    )
