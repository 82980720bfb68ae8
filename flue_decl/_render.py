"""Templates: which fields may hold them, static checks, and sandboxed rendering.

Templates are rendered per value, after parsing, never on the file text: an
environment value with a newline cannot rewrite the document. The sandbox has
no globals and one variable, ``env``, which can only be indexed by name (it
cannot be iterated or printed whole). Missing variables are collected: a
template is re-rendered with a placeholder for each missing name until it
renders, so every missing variable of a value is reported at once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

MAX_TEMPLATE_CHARS = 4096
MAX_OUTPUT_CHARS = 65536
MAX_TEMPLATE_NESTING = 20
if TYPE_CHECKING:
    import jinja2


def is_template(value: object) -> bool:
    # Spelled out rather than any(...) over the markers: called for every string field.
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


def template_paths(kind: str, data: Mapping[str, Any]) -> Iterator[tuple[str | int, ...]]:
    """Every path of ``data`` whose string value may be a template."""
    return (path for path, _ in string_fields(kind, data))


def templates(kind: str, data: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """``(path, source)`` of every field of ``data`` that holds a template."""
    return [(path, v) for path, v in string_fields(kind, data) if is_template(v)]


def string_fields(
    kind: str, data: Mapping[str, Any]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """``(path, value)`` of every string field of ``data`` that may be a template."""
    if kind == "ApiProvider":
        return
    for key in ("baseUrl", "apiKey"):
        value = data.get(key)
        if isinstance(value, str):
            yield (key,), value
    headers = data.get("headers")
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if isinstance(value, str):
                yield ("headers", name), value
    gateway = data.get("gateway")
    if isinstance(gateway, Mapping):
        for key in ("id", "cacheKey", "eventId"):
            value = gateway.get(key)
            if isinstance(value, str):
                yield ("gateway", key), value
        metadata = gateway.get("metadata")
        if isinstance(metadata, Mapping):
            for name, value in metadata.items():
                if isinstance(value, str):
                    yield ("gateway", "metadata", name), value


def get_path(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


class _MissingVariable(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


class _Env:
    """``env`` inside templates: lookup by name only."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __str__(self) -> str:
        return "<env>"


# Filters a configuration value can need; the rest of Jinja's (center, indent, wordwrap,
# format, join ...) can allocate without bound or compute more than a value warrants.
SAFE_FILTERS = ("default", "d", "lower", "upper", "trim", "string", "urlencode", "replace")


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    code: str
    message: str
    hint: str | None = None


def _bracket_depth(source: str) -> int:
    depth = deepest = 0
    for char in source:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(0, depth - 1)
    return deepest


def check_syntax(source: str) -> TemplateProblem | None:
    """Static check for ``validate``: syntax and variables, no environment needed."""
    if len(source) > MAX_TEMPLATE_CHARS:
        return TemplateProblem(
            "template-too-long", f"template is longer than {MAX_TEMPLATE_CHARS} characters"
        )
    if simple_parts(source) is not None:
        return None  # env lookups and defaults only: nothing for Jinja to check
    import jinja2  # only now: most configurations never need it
    import jinja2.meta
    import jinja2.nodes

    from ._sandbox import environment

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
def _compile(source: str) -> jinja2.Template:
    from ._sandbox import environment

    return environment().from_string(source)


@dataclass(frozen=True, slots=True)
class Rendered:
    value: str | None
    missing: tuple[str, ...] = ()
    problem: TemplateProblem | None = None


# The templates configuration is made of: text around `{{ env.NAME }}` / `{{ env['NAME'] }}`,
# optionally `| default('literal')` (or `d`). They are evaluated here directly, with Jinja's
# exact semantics (the default applies only when the variable is undefined); anything else,
# or anything this does not fully recognise, goes to Jinja. Compiling a Jinja template costs
# ~0.4 ms, and a tree has one distinct template per provider value.
_EXPRESSION = re.compile(
    r"""\s*env\s*(?:\.\s*([A-Za-z][A-Za-z0-9_]*)|\[\s*'([^'\\]*)'\s*\]|\[\s*"([^"\\]*)"\s*\])"""
    r"""\s*(?:\|\s*(?:default|d)\s*\(\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*\)\s*)?"""
)
_OUTPUT = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


@functools.lru_cache(maxsize=4096)
def simple_parts(source: str) -> tuple[tuple[str, str | None, bool], ...] | None:
    """``source`` as (text | name, default, is_variable) parts, or None if not that simple."""
    if "{%" in source or "{#" in source or "\r" in source:
        return None
    parts: list[tuple[str, str | None, bool]] = []
    position = 0
    for match in _OUTPUT.finditer(source):
        expression = _EXPRESSION.fullmatch(match.group(1))
        if expression is None:
            return None
        name = next(g for g in expression.group(1, 2, 3) if g is not None)
        default = expression.group(4) if expression.group(4) is not None else expression.group(5)
        parts.append((source[position : match.start()], None, False))
        parts.append((name, default, True))
        position = match.end()
    tail = source[position:]
    if "{{" in tail:
        return None
    parts.append((tail, None, False))
    return tuple(parts)


def _render_simple(
    parts: tuple[tuple[str, str | None, bool], ...], env: Mapping[str, str]
) -> Rendered:
    out: list[str] = []
    missing: list[str] = []
    for text, default, is_variable in parts:
        if not is_variable:
            out.append(text)
        elif text in env:
            out.append(env[text])
        elif default is not None:
            out.append(default)
        elif text not in missing:
            missing.append(text)
    if missing:
        return Rendered(None, tuple(missing))
    value = "".join(out)
    if len(value) > MAX_OUTPUT_CHARS:
        return Rendered(
            None,
            problem=TemplateProblem(
                "template-too-long", f"template output is longer than {MAX_OUTPUT_CHARS} characters"
            ),
        )
    return Rendered(value)


def render(source: str, env: Mapping[str, str]) -> Rendered:
    if not is_template(source):
        return Rendered(source)
    if len(source) <= MAX_TEMPLATE_CHARS:
        parts = simple_parts(source)
        if parts is not None:
            return _render_simple(parts, env)
    return render_with_jinja(source, env)


def render_with_jinja(source: str, env: Mapping[str, str]) -> Rendered:
    """The general path: Jinja in the narrowed sandbox (imported only when a template needs it)."""
    import jinja2
    from jinja2.exceptions import SecurityError

    problem = check_syntax(source)
    if problem is not None:
        return Rendered(None, problem=problem)
    template = _compile(source)
    placeholders: dict[str, str] = {}
    missing: list[str] = []
    for _ in range(64):
        try:
            out = template.render(env=_Env(_Overlay(env, placeholders)))
        except _MissingVariable as exc:
            if exc.name in placeholders:
                break
            missing.append(exc.name)
            placeholders[exc.name] = ""
            continue
        except SecurityError as exc:  # our own refusals: the message holds no value
            return Rendered(
                None, tuple(missing), TemplateProblem("template-error", f"template refused: {exc}")
            )
        except jinja2.TemplateError as exc:
            return Rendered(
                None,
                tuple(missing),
                TemplateProblem("template-error", f"template failed: {type(exc).__name__}"),
            )
        except (
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
            return Rendered(
                None,
                problem=TemplateProblem(
                    "template-too-long",
                    f"template output is longer than {MAX_OUTPUT_CHARS} characters",
                ),
            )
        return Rendered(out)
    return Rendered(None, tuple(missing))


class _Overlay(Mapping[str, str]):
    def __init__(self, base: Mapping[str, str], extra: Mapping[str, str]) -> None:
        self._base, self._extra = base, extra

    def __getitem__(self, key: str) -> str:
        if key in self._extra:
            return self._extra[key]
        return self._base[key]

    def __iter__(self) -> Iterator[str]:
        raise TypeError("env cannot be iterated")

    def __len__(self) -> int:
        return 0
