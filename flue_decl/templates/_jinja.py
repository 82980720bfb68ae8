"""Jinja's sandbox, narrowed to what a configuration value needs: the one jinja2 importer.

Used only for templates that are more than environment lookups with defaults (those are
evaluated by ``_fast``). Every operation that could allocate or loop without bound is
refused *before* it runs; missing ``env`` variables raise :class:`MissingVariable` so a
template is re-rendered with a placeholder for each until it renders, and every missing
variable of a value is reported at once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NoReturn

import jinja2
import jinja2.meta
import jinja2.nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from ._core import (
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_NESTING,
    SAFE_FILTERS,
    Env,
    MissingVariable,
    Overlay,
    Rendered,
    TemplateProblem,
    too_long,
)


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined that says *which* env variable is missing, so it can be collected."""

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        if isinstance(self._undefined_obj, Env) and isinstance(self._undefined_name, str):
            raise MissingVariable(self._undefined_name)
        super()._fail_with_undefined_error(*args, **kwargs)
        raise AssertionError("unreachable")


# Jinja binds its failing dunders (__str__, __add__, ...) to the base class's function
# object, so overriding the method is not enough: rebind every one of them.
for _klass in jinja2.StrictUndefined.__mro__:
    for _name, _value in vars(_klass).items():
        if _value is jinja2.Undefined._fail_with_undefined_error and _name.startswith("__"):
            setattr(_Undefined, _name, _Undefined._fail_with_undefined_error)


class _ConfigSandbox(SandboxedEnvironment):
    """Jinja's sandbox with every operation that could allocate or loop without bound
    refused before it runs."""

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


def _bracket_depth(source: str) -> int:
    depth = deepest = 0
    for char in source:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(0, depth - 1)
    return deepest


def check(source: str) -> TemplateProblem | None:
    """The static check of a template the fast path does not cover."""
    if _bracket_depth(source) > MAX_TEMPLATE_NESTING:
        return TemplateProblem(
            "template-syntax",
            f"template nests brackets deeper than {MAX_TEMPLATE_NESTING} levels",
            "a configuration value needs only {{ env.NAME | default('value') }}",
        )
    try:
        ast = environment().parse(source)
    except RecursionError:  # Jinja's parser recurses per nesting level
        return TemplateProblem("template-syntax", "template is nested too deeply")
    except jinja2.TemplateSyntaxError as exc:
        return TemplateProblem(
            "template-syntax",
            f"invalid template: {exc.message}",
            "templates look like {{ env.NAME }} or {{ env.NAME | default('value') }}",
        )
    if any(not isinstance(node, jinja2.nodes.Output) for node in ast.body):
        return TemplateProblem(
            "template-syntax",
            "only {{ expressions }} are allowed in values, not {% statements %}",
            "use an inline if: {{ env.A if env.A is defined else 'x' }}, or default()",
        )
    try:
        unknown = sorted(jinja2.meta.find_undeclared_variables(ast) - {"env"})
    except jinja2.TemplateError as exc:  # an unknown filter or test
        return TemplateProblem(
            "template-syntax",
            f"invalid template: {exc.message}",
            f"the filters are {', '.join(SAFE_FILTERS)}",
        )
    if unknown:
        return TemplateProblem(
            "template-unknown-variable",
            f"template uses `{unknown[0]}`; the only variable is `env`",
            "GitHub Actions secrets are not visible here: export the secret as an "
            "environment variable and write {{ env.NAME }}"
            if unknown[0] in ("secrets", "vars")
            else f"write {{{{ env.{unknown[0]} }}}} to read the environment variable",
        )
    return None


@functools.lru_cache(maxsize=4096)
def _template(source: str) -> jinja2.Template:
    return environment().from_string(source)


def render(source: str, env: Mapping[str, str]) -> Rendered:
    """The general path: ``source`` checked, then rendered in the narrowed sandbox."""
    problem = check(source)
    if problem is not None:
        return Rendered(None, problem=problem)
    template = _template(source)
    placeholders: dict[str, str] = {}
    missing: list[str] = []
    for _ in range(64):
        try:
            out = template.render(env=Env(Overlay(env, placeholders)))
        except MissingVariable as exc:
            if exc.name in placeholders:
                break
            missing.append(exc.name)
            placeholders[exc.name] = ""
            continue
        except SecurityError as exc:  # our own refusals: the message holds no value
            return Rendered(
                None, tuple(missing), TemplateProblem("template-error", f"template refused: {exc}")
            )
        except (
            jinja2.TemplateError,
            TypeError,
            ValueError,
            ArithmeticError,
            LookupError,
            MemoryError,
            RecursionError,
        ) as exc:
            # The exception text may echo a value from the environment: never show it.
            return Rendered(
                None,
                tuple(missing),
                TemplateProblem("template-error", f"template failed: {type(exc).__name__}"),
            )
        if missing:
            return Rendered(None, tuple(missing))
        if len(out) > MAX_OUTPUT_CHARS:
            return too_long()
        return Rendered(out)
    return Rendered(None, tuple(missing))
