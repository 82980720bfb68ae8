"""Jinja's sandbox, narrowed to what a configuration value needs.

Imported only when a template is more than environment lookups with defaults (those are
evaluated directly by ``_render``): a service whose values are all ``{{ env.NAME }}`` never
imports Jinja. Every operation that could allocate or loop without bound is refused *before*
it runs; missing ``env`` variables raise ``_MissingVariable`` so they can all be collected.
"""

from __future__ import annotations

import functools
from typing import Any, NoReturn

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from ._render import MAX_OUTPUT_CHARS, SAFE_FILTERS, _Env, _MissingVariable


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined that says *which* env variable is missing, so it can be collected."""

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        if isinstance(self._undefined_obj, _Env) and isinstance(self._undefined_name, str):
            raise _MissingVariable(self._undefined_name)
        super()._fail_with_undefined_error(*args, **kwargs)
        raise AssertionError("unreachable")


# Jinja binds its failing dunders (__str__, __add__, ...) to the base class's function
# object, so overriding the method is not enough: rebind every one of them.
for _klass in jinja2.StrictUndefined.__mro__:
    for _name, _value in vars(_klass).items():
        if _value is jinja2.Undefined._fail_with_undefined_error and _name.startswith("__"):
            setattr(_Undefined, _name, _Undefined._fail_with_undefined_error)


class _ConfigSandbox(SandboxedEnvironment):
    """Jinja's sandbox, narrowed to what a configuration value needs, with every operation
    that could allocate or loop without bound refused *before* it runs."""

    intercepted_binops = frozenset({"*", "**", "%", "//"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*" and (isinstance(left, str | list) or isinstance(right, str | list)):
            count = right if isinstance(left, str | list) else left
            size = len(left) if isinstance(left, str | list) else len(right)
            if isinstance(count, int) and size * count > MAX_OUTPUT_CHARS:
                raise SecurityError("repetition larger than the output cap")
        if operator == "**" and (abs(right) > 64 if isinstance(right, int | float) else True):
            raise SecurityError("exponent too large")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("%-formatting is not allowed in templates")
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("function and method calls are not allowed in templates")


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    grows = max(0, len(new) - len(old)) * (text.count(old) if old else len(text) + 1)
    if len(text) + grows > MAX_OUTPUT_CHARS:
        raise SecurityError("replace result larger than the output cap")
    return text.replace(old, new) if count is None else text.replace(old, new, count)


@functools.cache
def environment() -> SandboxedEnvironment:
    env = _ConfigSandbox(undefined=_Undefined, autoescape=False, keep_trailing_newline=True)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS if name != "replace"}
    env.filters["replace"] = _replace
    return env
