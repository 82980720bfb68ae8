"""The template language: a closed subset of Jinja2's expression syntax.

    template   := (text | "{{" expression "}}")*
    expression := concat ["if" condition "else" expression]
    condition  := reference "is" ["not"] "defined" | concat
    concat     := filtered ("~" filtered)*
    filtered   := primary ("|" filter)*
    filter     := default | d | lower | upper | trim | urlencode | replace
    primary    := string | reference | "(" expression ")"
    reference  := ("env" | "secret") ("." NAME | "[" string "]")

``default(x)`` / ``d(x)`` take an expression (``default(x, true)`` also replaces an empty
value), ``replace`` two string literals; strings are quoted without backslashes. Nothing
else is a template: no numbers, arithmetic, lists, dicts, calls, attributes other than
on ``env`` and ``secret``, computed subscripts, other variables, ``{% %}`` or ``{# #}``,
whitespace control or control characters. What is accepted means what Jinja2 makes of it
(the test suite renders every generated template both ways).

Jinja2's own parser reads a template (``_jinja``), bounded before it runs; only its syntax
tree is used, turned into this package's (``_syntax``), which ``_evaluate`` renders and
the emitted module's JavaScript is generated from. A template made only of environment
lookups with literal defaults (nearly all of them) is read by ``_fast`` instead, to the
same tree (a property test checks the two agree), and Jinja2 is not imported for it.
"""

from __future__ import annotations

from .._memo import TREE_SIZED, memo
from ._core import TemplateProblem
from ._fast import Parts, simple_parts
from ._syntax import DEFAULT, FILTERED, REF, TEXT, Node, Template, TemplateRefused


@memo(TREE_SIZED)
def parse(source: str) -> Template | TemplateProblem:
    """The parsed template, or why it is not one this language accepts."""
    parts = simple_parts(source)
    if parts is not None:
        return from_simple(parts)
    from . import _jinja  # ~90 ms to import, for the templates that are not simple

    try:
        return _jinja.parse(source)
    except TemplateRefused as refused:
        return refused.problem


def from_simple(parts: Parts) -> Template:
    """The syntax tree of a template ``_fast`` read, as Jinja2's parse gives it."""
    out: list[Node] = []
    for text, default, is_variable in parts:
        if not is_variable:
            if text:
                out.append((TEXT, text))
        elif default is None:
            out.append((REF, text))
        else:
            out.append((FILTERED, (REF, text), ((DEFAULT, ((TEXT, default),), False),)))
    return tuple(out)
