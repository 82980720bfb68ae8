"""The templates configuration is made of, evaluated without Jinja.

Text around ``{{ env.NAME }}`` / ``{{ env['NAME'] }}``, optionally ``| default('literal')``
(or ``d``), with Jinja's exact semantics: the default applies only when the variable is
undefined. Anything this does not fully recognise goes to the grammar's evaluator; a property
test checks the two agree. Compiling a Jinja template costs ~0.4 ms, and a tree has one distinct
template per provider value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .._memo import TREE_SIZED, memo
from ._core import MAX_MISSING, MAX_OUTPUT_CHARS, TOO_LONG, Rendered

Parts = tuple[tuple[str, str | None, bool], ...]

_EXPRESSION = re.compile(
    r"""\s*env\s*(?:\.\s*([A-Za-z][A-Za-z0-9_]*)|\[\s*'([^'\\]*)'\s*\]|\[\s*"([^"\\]*)"\s*\])"""
    r"""\s*(?:\|\s*(?:default|d)\s*\(\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*\)\s*)?"""
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The common case whole, read in one match: one expression, text around it and literals
# in it without braces. What it reads, the loop below reads alike (a property test).
_ONE = re.compile(
    r"""([^{}]*)\{\{"""
    r"""\s*env\s*(?:\.\s*([A-Za-z][A-Za-z0-9_]*)|\[\s*'([^'\\{}]*)'\s*\]|\[\s*"([^"\\{}]*)"\s*\])"""
    r"""\s*(?:\|\s*(?:default|d)\s*\(\s*(?:'([^'\\{}]*)'|"([^"\\{}]*)")\s*\)\s*)?"""
    r"""\}\}([^{}]*)"""
)


@memo(TREE_SIZED)
def simple_parts(source: str) -> Parts | None:
    """``source`` as (text | name, default, is_variable) parts, or None if not that simple."""
    return quick_parts(source) or parts_of(source) if _plain(source) else None


def quick_parts(source: str) -> Parts | None:
    """:func:`simple_parts` of the commonest templates, not remembered: read again in a
    match (a service renders each once per load, and 20,000 remembered parts were a sixth
    of what a loaded registry's process frees at exit); None for any other."""
    return one_expression(source) if _plain(source) else None


def _plain(source: str) -> bool:
    return not ("{%" in source or "{#" in source or _CONTROL.search(source))  # else: grammar


def one_expression(source: str) -> Parts | None:
    """:func:`simple_parts` of a template of one expression whose text and literals hold
    no braces (most of them), read in one match; None for any other."""
    one = _ONE.fullmatch(source)
    if one is None:
        return None
    before, dotted, single, double, default, default2, after = one.groups()
    name = dotted if dotted is not None else single if single is not None else double
    default = default if default is not None else default2
    return ((before, None, False), (name, default, True), (after, None, False))


def parts_of(source: str) -> Parts | None:
    """:func:`simple_parts` of a template without control characters, ``{%`` or ``{#``."""
    parts: list[tuple[str, str | None, bool]] = []
    position = 0
    while True:  # str.find, not a regex: one pass, whatever the text
        opening = source.find("{{", position)
        if opening == -1:
            break
        closing = source.find("}}", opening + 2)
        if closing == -1:
            return None
        expression = _EXPRESSION.fullmatch(source, opening + 2, closing)
        if expression is None:
            return None
        name = next(g for g in expression.group(1, 2, 3) if g is not None)
        default = expression.group(4) if expression.group(4) is not None else expression.group(5)
        parts.append((source[position:opening], None, False))
        parts.append((name, default, True))
        position = closing + 2
    parts.append((source[position:], None, False))
    return tuple(parts)


def render_simple(parts: Parts, env: Mapping[str, str]) -> Rendered:
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
        return Rendered(None, tuple(missing[:MAX_MISSING]))
    value = "".join(out)
    if len(value) > MAX_OUTPUT_CHARS:
        return Rendered(None, problem=TOO_LONG)
    return Rendered(value)
