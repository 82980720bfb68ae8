"""Stage 7: rendered calls applied, in order, to a :class:`Registry`.

Kept apart from the compile stages so that a service starting from an artifact imports
none of the YAML, schema or layering machinery.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._catalog import Catalog
from ._compile import Call, render_calls
from ._errors import Diagnostic, TemplateError, ValidationError
from ._registry import Registry


def import_handler(call: Call) -> Any:
    """Import an ApiProvider's ``package.module:Attribute`` handler."""
    handler = str(call.payload.get("handler", ""))
    module_name, _, attribute = handler.partition(":")
    origin = call.origins.get(("handler",))
    place = origin.place if origin else None
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except Exception as exc:  # an import runs foreign code: any failure is the user's to see
        raise ValidationError(
            [
                Diagnostic.at(
                    "handler-import",
                    f"cannot import handler `{handler}` for api `{call.target}`: "
                    f"{type(exc).__name__}: {exc}",
                    place,
                    ("handler",),
                    hint="install the package that provides it, or fix the import path",
                )
            ]
        ) from None
    return obj


def build_registry(
    calls: Sequence[Call],
    *,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool = True,
    catalog: Catalog | None = None,
    owned: bool = False,
) -> Registry:
    """Apply already-rendered calls, in order, to a new Registry. ``owned``: nothing else
    holds the payloads (an artifact decoded for this registry), so they are not copied."""
    registry = Registry(env=env, catalog=catalog, bindings=bindings)
    for call in calls:
        if call.op == "registerApiProvider":
            handler = import_handler(call) if import_handlers else call.payload.get("handler")
            registry.register_api_provider(call.target, handler)
        else:
            registry._store(call.op, call.target, call.payload, call.origins, copy=not owned)
    return registry


def render_or_raise(calls: Sequence[Call], env: Mapping[str, str]) -> tuple[Call, ...]:
    rendered, problems = render_calls(calls, env)
    if problems:
        raise TemplateError(sorted(problems, key=Diagnostic.sort_key))
    return rendered


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Loading builds a large, acyclic graph of dicts, lists and strings in one go; the
    cyclic collector would rescan it repeatedly for nothing. Paused for that one step (and
    re-enabled after, unless the caller had turned it off) at a service's start-up."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
