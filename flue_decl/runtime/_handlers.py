"""ApiProvider handlers: which modules may be imported (``handler_modules``, else
``FLUE_DECL_HANDLER_MODULES``; none means none), importing them the way a load does, and
what each must declare (its ``url_schemes``). ``check-handlers`` runs
:func:`handler_problems` in a child process; :func:`~._build.build_registry` imports them."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any, NamedTuple

from .._domain import Call, Op, place_of
from .._errors import Diagnostic, ValidationError
from .._protocol import WireProtocol
from .._urls import url_scheme

HANDLER_MODULES_ENV = "FLUE_DECL_HANDLER_MODULES"


def schemes_not_declared(calls: Sequence[Call], handlers: Mapping[str, Any]) -> list[Diagnostic]:
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
                    place_of(call, ("baseUrl",)),
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
        place_of(call, ("handler",)),
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
        place_of(call, ("handler",)),
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


def custom_api_providers(calls: Sequence[Call]) -> dict[str, str]:
    """Provider ID -> api, for every provider whose api an ApiProvider call declares."""
    declared = {c.target for c in calls if c.op == Op.REGISTER_API_PROVIDER}
    return {
        c.target: str(c.payload.get("api"))
        for c in calls
        if c.op == Op.REGISTER_PROVIDER and c.payload.get("api") in declared
    }
