"""From compiled calls to a Registry: render every template, import handlers, apply.

:func:`build_registry` is the one way a registry is made from calls, whether they come
from a providers.d tree or an artifact. Its first step is :func:`render_or_raise`;
:func:`render_calls` is the same without raising, for ``check-env``.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any, NamedTuple

from .._catalog import Catalog, builtin_catalog
from .._domain import Call, Op, field_label, string_fields
from .._errors import Diagnostic, JsonPath, Place, TemplateError, ValidationError, did_you_mean
from .._protocol import WireProtocol
from .._urls import (
    credential_routes,
    sent_in_clear,
    transport_diagnostic,
    url_problem,
    url_scheme,
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
from ._registry import Registry
from ._secretfiles import SECRETS_DIR_ENV, SecretFiles

HANDLER_MODULES_ENV = "FLUE_DECL_HANDLER_MODULES"


def build_registry(
    calls: Sequence[Call],
    *,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool = True,
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
    artifact for this registry), so they are taken over instead of copied.
    """
    handlers: dict[str, Any] = {}
    if providers is not None:
        providers = provider_ids(providers)
        calls = select_calls(calls, providers, catalog or builtin_catalog())
    if import_handlers:
        allowed = handler_allow_list(handler_modules)
        refused = [not_allowed(c, allowed) for c in calls if c.op == Op.REGISTER_API_PROVIDER]
        if any(refused):
            raise ValidationError([d for d in refused if d is not None])
    environ = dict(os.environ) if env is None else dict(env)
    rendered = render_or_raise(calls, environ, SecretFiles(secrets_dir))
    if import_handlers:
        handlers = import_handlers_of(rendered)
        undeclared = _schemes_not_declared(rendered, handlers)
        if undeclared:
            raise ValidationError(undeclared)
    registry = Registry(env=environ, catalog=catalog, bindings=bindings, providers=providers)
    for call in rendered:
        if call.op == Op.REGISTER_API_PROVIDER and import_handlers:
            registry.register_api_provider(call.target, handlers[call.target], origins=call.origins)
        else:
            registry.apply(call, copy=not owned)
    return registry


def provider_ids(providers: Any) -> list[str]:
    """``providers=`` as a list of IDs: a string would be a list of letters."""
    if isinstance(providers, str | bytes):
        raise TypeError("providers is a list of provider IDs, not a string")
    ids = list(providers)  # a generator is read once, here
    if not all(isinstance(p, str) for p in ids):
        raise TypeError("providers holds provider IDs (strings)")
    return ids


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
                    f"provider `{p}` is neither declared in the configuration nor built in",
                    None,
                    hint=did_you_mean(p, known),
                )
                for p in unknown
            ]
        )
    kept = [c for c in calls if c.op != Op.REGISTER_API_PROVIDER and c.target in wanted]
    apis = {c.payload.get("api") for c in kept if c.op == Op.REGISTER_PROVIDER}
    return tuple(
        c
        for c in calls
        if (c.target in apis if c.op == Op.REGISTER_API_PROVIDER else c.target in wanted)
    )


def _schemes_not_declared(calls: Sequence[Call], handlers: Mapping[str, Any]) -> list[Diagnostic]:
    """A custom protocol's providers may use the URL schemes its handler declares in
    ``url_schemes`` (default http and https), and no other."""
    apis = custom_api_providers(calls)
    out = []
    for call in calls:
        api = apis.get(call.target)
        url = call.payload.get("baseUrl")
        if api is None or call.op == Op.REGISTER_API_PROVIDER or not isinstance(url, str):
            continue
        schemes = _schemes(handlers.get(api))
        scheme = url_scheme(url)
        if scheme not in schemes:
            out.append(
                Diagnostic.at(
                    "invalid-url",
                    f"baseUrl of `{call.target}` has the scheme `{scheme or '(none)'}`, which "
                    f"the `{api}` handler does not declare (url_schemes: {', '.join(schemes)})",
                    _place(call, ("baseUrl",)),
                    ("baseUrl",),
                    hint="use a URL the handler speaks, or add the scheme to its url_schemes",
                )
            )
    return out


def handler_allow_list(given: Sequence[str] | None) -> tuple[str, ...]:
    """The module prefixes handlers may come from: ``given``, else the process's
    ``FLUE_DECL_HANDLER_MODULES`` (comma-separated), else none."""
    if isinstance(given, str | bytes):  # a string would be a list of one-letter prefixes
        raise TypeError("handler_modules is a list of module prefixes, not a string")
    raw = os.environ.get(HANDLER_MODULES_ENV, "").split(",") if given is None else given
    prefixes = (p.strip().rstrip(".") for p in raw)  # "acme_llm." means "acme_llm"
    return tuple(p for p in prefixes if p)


def _module_of(call: Call) -> str:
    return _handler(call).partition(":")[0]


def not_allowed(call: Call, allowed: Sequence[str]) -> Diagnostic | None:
    """``handler-not-allowed`` if ``call``'s handler is outside the ``allowed`` prefixes."""
    module = _module_of(call)
    if any(module == p or module.startswith(p + ".") for p in allowed):
        return None
    return Diagnostic.at(
        "handler-not-allowed",
        f"handler `{call.payload.get('handler')}` for api `{call.target}` is not under an "
        "allowed module"
        + (f" (allowed: {', '.join(allowed)})" if allowed else " (no handler module is allowed)"),
        _place(call, ("handler",)),
        ("handler",),
        hint=f"allow its module ({module.split('.')[0]!r}: handler_modules=, --handler-modules "
        f"or {HANDLER_MODULES_ENV}) if this code is meant to run in the service",
    )


def import_handlers_of(calls: Sequence[Call]) -> dict[str, Any]:
    """The handler of every ApiProvider call, by api slug, each module imported at most
    once; raises :class:`ValidationError` with every failure."""
    apis = [c for c in calls if c.op == Op.REGISTER_API_PROVIDER]
    out: dict[str, Any] = {}
    problems = []
    for call, (_, result) in zip(apis, _handler_objects([_handler(c) for c in apis]), strict=True):
        if isinstance(result, _Failure):
            problems.append(handler_import_error(call, result.why, result.hint))
        else:
            out[call.target] = result
    if problems:
        raise ValidationError(problems)
    return out


def handler_import_error(call: Call, why: str, hint: str) -> Diagnostic:
    """``handler-import`` for ``call``'s handler, at its place."""
    return Diagnostic.at(
        "handler-import",
        f"cannot use handler `{_handler(call)}` for api `{call.target}`: {why}",
        _place(call, ("handler",)),
        ("handler",),
        hint=hint,
    )


def _handler(call: Call) -> str:
    return str(call.payload.get("handler", ""))


def _handler_objects(handlers: Sequence[str]) -> Iterator[tuple[str, Any]]:
    """``(handler, the object it names or a _Failure)`` for each of ``handlers`` in turn,
    each module imported at most once."""
    modules: dict[str, ModuleType | _Failure] = {}
    for handler in handlers:
        module_name, _, attribute = handler.partition(":")
        if module_name not in modules:
            modules[module_name] = _import(module_name)
        yield handler, _attribute(modules[module_name], attribute)


class _Failure(NamedTuple):
    why: str
    hint: str = "install the package that provides it, or fix the import path"


def _import(module_name: str) -> ModuleType | _Failure:
    """The module, or why it cannot be imported. The import runs the module's code:
    whatever it raises (``SystemExit`` too) is reported, never propagated, but for
    ``KeyboardInterrupt``."""
    try:
        return importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return _Failure(_described(exc))


def _attribute(module: ModuleType | _Failure, attribute: str) -> Any:
    """The handler object ``attribute`` names in ``module``, or a :class:`_Failure`. The
    path may not pass through private names or other modules (``Cls.__init__.__globals__``,
    ``othermod.Handler``): the allow-list names where the handler comes from. Everything
    that touches the object runs its code, the protocol check too: all of it is guarded."""
    if isinstance(module, _Failure):
        return module
    parts = attribute.split(".")
    if any(part.startswith("_") for part in parts):
        return _Failure(
            "the attribute path passes through a private name",
            "name a public class or object of the module: module:Attribute",
        )
    obj: Any = module
    try:
        for part in parts:
            obj = getattr(obj, part)
            if isinstance(obj, ModuleType):
                return _Failure(
                    f"`{part}` is a module: a handler is a class or object of the module "
                    "it is imported from",
                    "name the module itself before the colon",
                )
        if not isinstance(obj, WireProtocol):
            return _Failure(
                "it does not implement flue_decl.WireProtocol (no auth_headers)",
                "point handler at the class or object that implements WireProtocol",
            )
        schemes = getattr(obj, "url_schemes", DEFAULT_SCHEMES)
        if (
            not isinstance(schemes, tuple | list | frozenset | set)
            or not schemes
            or not all(isinstance(x, str) for x in schemes)
        ):
            return _Failure(
                "its url_schemes is not a collection of scheme names",
                'write url_schemes = ("https", "wss")',
            )
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return _Failure(_described(exc))
    return obj


DEFAULT_SCHEMES = ("http", "https")


def _schemes(handler: Any) -> tuple[str, ...]:
    """The handler's url_schemes (checked at import; read again guarded, since a property
    may answer differently the second time)."""
    try:
        schemes = getattr(handler, "url_schemes", DEFAULT_SCHEMES)
        return tuple(s for s in schemes if isinstance(s, str))
    except KeyboardInterrupt:
        raise
    except BaseException:
        return ()


def handler_problems(handlers: Sequence[str]) -> Iterator[tuple[str, tuple[str, str] | None]]:
    """``(handler, (why, hint) or None)`` for each of ``handlers`` in turn, imported the way
    a load imports them. It runs the modules' code: ``check-handlers`` calls it in a child
    process."""
    for handler, result in _handler_objects(handlers):
        yield handler, (result.why, result.hint) if isinstance(result, _Failure) else None


def _described(exc: BaseException) -> str:
    detail = str(exc) if isinstance(exc, Exception) else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def render_or_raise(
    calls: Sequence[Call], env: Mapping[str, str], secrets: SecretFiles | None = None
) -> tuple[Call, ...]:
    """``calls`` with every template rendered against ``env`` (and ``secrets``); raises
    :class:`TemplateError` with every problem of every call."""
    rendered, problems = render_calls(calls, env, secrets)
    if problems:
        raise TemplateError(sorted(problems, key=Diagnostic.sort_key))
    return rendered


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
                place = _place(call, path)
                diagnostics.extend(_missing(name, place, path, secrets) for name in result.missing)
                continue
            if result.problem is not None:
                diagnostics.append(
                    Diagnostic.at(
                        result.problem.code,
                        result.problem.message,
                        _place(call, path),
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


def _place(call: Call, path: JsonPath) -> Place | None:
    """Only looked up to report a problem: an artifact's origins are built on first use."""
    origin = call.origins.get(path)
    return origin.place if origin else None


def custom_api_providers(calls: Sequence[Call]) -> dict[str, str]:
    """Provider ID -> api, for every provider whose api an ApiProvider call declares."""
    declared = {c.target for c in calls if c.op == Op.REGISTER_API_PROVIDER}
    return {
        c.target: str(c.payload.get("api"))
        for c in calls
        if c.op == Op.REGISTER_PROVIDER and c.payload.get("api") in declared
    }


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
                    _place(call, path),
                    path,
                )
            ]
    elif _CONTROL.search(value) is not None:
        return [
            Diagnostic.at(
                "invalid-rendered-value",
                f"{field_label(path)} rendered from {names()} contains a line break or "
                "control character",
                _place(call, path),
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
                    _place(route.url, ("baseUrl",)),
                    [(_place(call, path), path) for call, path in route.sent],
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
