"""From compiled calls to a Registry: render every template, import handlers (``_handlers``), apply.

:func:`build_registry` is the one way a registry is made from calls, whether they come
from a providers.d tree or an artifact. Its first step is :func:`render_or_raise`;
:func:`render_calls` is the same without raising, for ``check-env``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._catalog import Catalog, builtin_catalog
from .._domain import Call, Op, field_label, place_of, string_fields
from .._errors import (
    Diagnostic,
    JsonPath,
    Place,
    TemplateError,
    ValidationError,
    did_you_mean,
    frames_dropped,
)
from .._service import ServiceOptions
from .._urls import (
    RENDERED_CONTROL,
    credential_routes,
    sent_in_clear,
    transport_diagnostic,
    url_problem,
)
from ..templates import (
    SECRET,
    Namespace,
    Rendered,
    env_names,
    is_credential,
    is_template,
    render,
    secret_names,
)
from ._handlers import (
    custom_api_providers,
    handler_allow_list,
    import_handlers_of,
    not_allowed,
    schemes_not_declared,
)
from ._registry import Registry
from ._secretfiles import SECRETS_DIR_ENV, SecretFiles


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
    handlers: dict[str, Any] = {}
    if providers is not None:
        calls = select_calls(calls, providers, catalog or builtin_catalog())
    if import_handlers:
        allowed = handler_allow_list(service.handler_modules)
        refused = [not_allowed(c, allowed) for c in calls if c.op == Op.REGISTER_API_PROVIDER]
        if any(refused):
            raise ValidationError([d for d in refused if d is not None])
    environ = dict(os.environ) if env is None else dict(env)
    rendered = render_or_raise(calls, environ, SecretFiles(secrets_dir))
    if import_handlers:
        handlers = import_handlers_of(rendered)
        undeclared = schemes_not_declared(rendered, handlers)
        if undeclared:
            raise ValidationError(undeclared)
    # Templates are rendered now, from this copy; the keys the runtime reads by itself are
    # read when a request is made (os.environ as it is then, as Flue's runtime does),
    # or from the mapping the caller gave.
    registry = Registry(env=env, catalog=catalog, bindings=bindings, providers=providers)
    for call in rendered:
        if call.op == Op.REGISTER_API_PROVIDER and import_handlers:
            registry.register_api_provider(call.target, handlers[call.target], origins=call.origins)
        else:
            registry.apply(call, copy=not owned)
    return registry


def select_calls(
    calls: Sequence[Call], providers: Sequence[str], catalog: Catalog, *, strict: bool = True
) -> tuple[Call, ...]:
    """The calls a registry serving only ``providers`` needs: their registrations and
    configurations, and the ApiProviders of the protocols they speak. ``strict``: a provider
    neither declared in ``calls`` nor built in is an error (``unknown-provider``, with a
    did-you-mean), not an empty selection."""
    wanted = set(providers)
    declared = {c.target for c in calls if c.op != Op.REGISTER_API_PROVIDER}
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
    kept = [c for c in calls if c.op != Op.REGISTER_API_PROVIDER and c.target in wanted]
    apis = {c.payload.get("api") for c in kept if c.op == Op.REGISTER_PROVIDER}
    return tuple(
        c
        for c in calls
        if (c.target in apis if c.op == Op.REGISTER_API_PROVIDER else c.target in wanted)
    )


def render_or_raise(
    calls: Sequence[Call], env: Mapping[str, str], secrets: SecretFiles | None = None
) -> tuple[Call, ...]:
    """``calls`` with every template rendered against ``env`` (and ``secrets``); raises
    :class:`TemplateError` with every problem of every call."""
    rendered, problems = render_calls(calls, env, secrets)
    if problems:
        raise TemplateError(sorted(problems, key=Diagnostic.sort_key))
    return rendered


_CONTROL = re.compile(RENDERED_CONTROL)


def render_calls(
    calls: Sequence[Call], env: Mapping[str, str], secrets: SecretFiles | None = None
) -> tuple[tuple[Call, ...], tuple[Diagnostic, ...]]:
    """Every template of every call rendered against ``env`` and the secret files
    (``secrets``, default: the secrets directory's), and every problem found (all missing
    variables and secrets, unusable rendered values, keys that would travel in clear)."""
    secrets = SecretFiles() if secrets is None else secrets
    names = Namespace(env, secrets)
    rendered: list[Call] = []
    diagnostics: list[Diagnostic] = []
    results: dict[str, Rendered] = {}  # one environment: the same template, the same result
    custom = custom_api_providers(calls)
    for call in calls:
        payload = call.payload  # copied along the path of each rendered value only
        credentials = []
        for path, source in string_fields(call.kind.name, call.payload):
            # One pass: whether the field is a credential is decided from its source.
            if is_credential(path, source):
                credentials.append(path)
            if not is_template(source):
                if path == ("baseUrl",):  # literal: held to today's rule too (see above)
                    diagnostics.extend(
                        _check_rendered(path, source, source, call, call.target in custom)
                    )
                continue
            result = results.get(source)
            if result is None:
                result = results[source] = render(source, names)
            if result.missing:
                place = place_of(call, path)
                diagnostics.extend(_missing(name, place, path, secrets) for name in result.missing)
                continue
            if result.problem is not None:
                diagnostics.append(
                    Diagnostic.at(
                        result.problem.code,
                        result.problem.message,
                        place_of(call, path),
                        path,
                        hint=result.problem.hint,
                    )
                )
                continue
            assert result.value is not None
            payload = _with_value(payload, path, result.value)
            diagnostics.extend(
                _check_rendered(path, source, result.value, call, call.target in custom)
            )
        rendered.append(
            Call(
                call.op,
                call.target,
                payload,
                call.origins,
                call.allow_plain_http,
                frozenset(credentials),
            )
        )
    diagnostics.extend(_rendered_transport(rendered))
    return tuple(rendered), tuple(diagnostics)


def _missing(name: str, place: Place | None, path: JsonPath, secrets: SecretFiles) -> Diagnostic:
    if name.startswith(SECRET):
        file = name[len(SECRET) :]
        return Diagnostic.at(
            "missing-env",
            f"secret `{file}` cannot be read: {secrets.why(file)}",
            place,
            path,
            hint=f"mount it in {secrets.directory} (or set {SECRETS_DIR_ENV}), or give a "
            f"default: {{{{ secret['{file}'] | default('...') }}}}",
        )
    return Diagnostic.at(
        "missing-env",
        f"environment variable `{name}` is not set",
        place,
        path,
        hint=f"set {name}, or give a default: {{{{ {_spelled(name)} | default('...') }}}}",
    )


def _spelled(name: str) -> str:
    """How a template reads the variable ``name``: env.NAME where the grammar allows it."""
    return f"env.{name}" if name.isidentifier() and not name.startswith("_") else f"env['{name}']"


def _check_rendered(
    path: JsonPath, source: str, value: str, call: Call, custom_api: bool
) -> list[Diagnostic]:
    def names() -> str:
        named = [*env_names(source), *(f"secret.{n}" for n in secret_names(source))]
        return ", ".join(f"`{n}`" for n in named) or "its template"

    if path == ("baseUrl",):
        problem = url_problem(value, any_scheme=custom_api)
        if problem is not None:
            what = f"baseUrl rendered from {names()}" if is_template(source) else "baseUrl"
            return [
                Diagnostic.at(
                    "invalid-url",
                    f"{what} is invalid: {problem}",
                    place_of(call, path),
                    path,
                )
            ]
    elif _CONTROL.search(value) is not None:
        return [
            Diagnostic.at(
                "invalid-rendered-value",
                f"{field_label(path)} rendered from {names()} contains a line break or "
                "control character",
                place_of(call, path),
                path,
                hint="check the variable's value (a trailing newline from a file?)",
            )
        ]
    return []


def _rendered_transport(calls: Sequence[Call]) -> list[Diagnostic]:
    # Every pair again, literal ones too: an artifact compiled by an older flue-decl, or
    # calls applied without a compile, are held to today's rule.
    registered = {c.target: c for c in calls if c.op == Op.REGISTER_PROVIDER}
    configured = {c.target: c for c in calls if c.op == Op.CONFIGURE_PROVIDER}
    allowed = {c.target for c in calls if c.allow_plain_http}
    out = []
    routes = credential_routes(
        registered, configured, _payload, _credentials, builtin_catalog().runtime_credential
    )
    for route in routes:
        if route.provider in allowed:
            continue
        base_url = route.url.payload.get("baseUrl")
        if isinstance(base_url, str) and sent_in_clear(base_url):
            out.append(
                transport_diagnostic(
                    place_of(route.url, ("baseUrl",)),
                    [(place_of(call, path), path) for call, path in route.sent],
                    route.provider,
                    ("baseUrl",),
                    route.runtime_key,
                )
            )
    return out


def _payload(call: Call) -> Mapping[str, Any]:
    return call.payload


def _credentials(call: Call) -> frozenset[JsonPath]:
    return call.credentials


def _with_value(data: Any, path: JsonPath, value: str) -> Any:
    """``data`` with ``value`` at ``path``: the containers along the path are new, the rest
    is shared (calls are never mutated, and rendering touches a few fields of each)."""
    head = path[0]
    out: Any = dict(data) if isinstance(data, Mapping) else list(data)
    out[head] = value if len(path) == 1 else _with_value(data[head], path[1:], value)
    return out
