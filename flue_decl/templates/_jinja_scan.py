"""The bounds on a template, checked on Jinja2's tokens before its parser runs.

Jinja2's parser is recursive: each bracket, inline ``if`` and ``not`` is a level of it,
so an expression is refused past ``MAX_TEMPLATE_NESTING`` of them before it is parsed, as
are whatever the language refuses at the token level: operators other than
``. [ ] ( ) | ~ ,``, backslashes in strings, two strings side by side, statements,
comments and whitespace control. The lexer is a loop over regular expressions, and its
tokens add up to the source text: a failure has its offset, which says what is wrong.
"""

from __future__ import annotations

import re
from typing import NoReturn

import jinja2

from ._core import MAX_TEMPLATE_NESTING
from ._syntax import ALLOWED_SPELLING, refuse

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_OPERATORS = frozenset(".[]()|~,")
_OPENING, _CLOSING = frozenset("(["), frozenset(")]")
_DASHED = re.compile(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)+")
_CONTROL_FLOW = ("if", "not")  # each a level of Jinja2's recursion


def scan(source: str, environment: jinja2.Environment) -> None:
    """Refuse ``source`` (TemplateRefused) if it breaks a bound or a token-level rule."""
    if _CONTROL.search(source):
        refuse(
            "a template cannot contain line breaks or control characters",
            "write the value on one line",
        )
    offset = 0
    expression: list[tuple[str, str]] | None = None  # the open {{ ... }}'s tokens
    # Per open bracket (and the expression itself), its inline ifs and `not`s: each is a
    # level of Jinja2's recursion until that bracket closes; siblings do not add up.
    levels: list[int] = [0]
    try:
        for _, kind, text in environment.lexer.tokeniter(source, None):
            if kind == "variable_begin":
                if text != "{{":
                    refuse("whitespace control ({{- ... -}}) is not allowed in templates")
                expression, levels = [], [0]
            elif kind == "variable_end":
                if text != "}}":
                    refuse("whitespace control ({{- ... -}}) is not allowed in templates")
                expression = None
            elif kind.endswith("_begin"):  # block, comment, raw, line statement
                _statements()
            elif expression is not None and kind != "whitespace":
                if kind == "operator":
                    if text not in _OPERATORS:
                        refuse(*_operator_problem(text, expression, source, offset))
                    if text in _OPENING:
                        levels.append(0)
                    elif text in _CLOSING and len(levels) > 1:
                        levels.pop()
                elif kind == "string":
                    if "\\" in text:
                        refuse(*_operator_problem(text[0], expression))
                    if expression and expression[-1][0] == "string":
                        refuse(
                            "two strings side by side",
                            "join strings with ~: {{ 'a' ~ 'b' }}",
                            "template-syntax",
                        )
                elif (
                    kind == "name"
                    and text in _CONTROL_FLOW
                    and not (text == "not" and expression and expression[-1][1] == "is")
                ):
                    levels[-1] += 1  # `is not defined` is one test, not a level
                if len(levels) - 1 + sum(levels) > MAX_TEMPLATE_NESTING:
                    refuse(
                        f"template nests deeper than {MAX_TEMPLATE_NESTING} levels",
                        f"a configuration value needs only {ALLOWED_SPELLING}",
                    )
                expression.append((kind, text))
            offset += len(text)
    except jinja2.TemplateSyntaxError:
        if source.startswith(("{%", "{#"), offset):
            _statements()
        char = source[offset : offset + 1]
        if char in ("-", "+") and source.startswith("}}", offset + 1):
            refuse("whitespace control ({{- ... -}}) is not allowed in templates")
        refuse(*_operator_problem(char, expression or []))
    if expression is not None:
        refuse(
            "`{{` without its closing `}}`",
            f"templates look like {ALLOWED_SPELLING}",
            "template-syntax",
        )


def _statements() -> NoReturn:
    refuse(
        "only {{ expressions }} are allowed in values, not {% statements %} or {# comments #}",
        "use an inline if: {{ env.A if env.A is defined else 'x' }}, or default()",
    )


def _operator_problem(
    text: str, before: list[tuple[str, str]], source: str = "", at: int = 0
) -> tuple[str, str]:
    if (
        text == "-"
        and len(before) >= 3
        and before[-2][1] == "."
        and before[-3][1] in ("env", "secret")
    ):
        # The name as meant: the dashed run around this `-`, in the template's own text.
        start = at - len(before[-1][1])
        run = _DASHED.match(source, start)
        meant = run.group() if run else "NAME-WITH-DASHES"
        return (
            "`-` is subtraction here, not part of a variable name",
            f"names with dashes are written {before[-3][1]}['{meant}']",
        )
    if text in ("+", "-", "*", "/", "%", "**", "//"):
        return (
            f"arithmetic (`{text}`) is not allowed in templates",
            "join strings with ~, e.g. {{ 'Bearer ' ~ env.TOKEN }}",
        )
    if text == "}":
        return ("a single `}`: an expression ends with `}}`", "{{ env.NAME }}")
    if text == "{":
        return ("dicts are not allowed in templates", f"templates look like {ALLOWED_SPELLING}")
    if text in ("'", '"'):
        return (
            f"a string that is not closed, or holds a backslash (`{text}` ...)",
            "strings are quoted without backslashes: 'text' or \"text\"",
        )
    if text in ("==", "!=", "<", ">", "<=", ">=", "="):
        return (
            f"comparisons (`{text}`) are not allowed in templates",
            "choose with {{ env.A if env.A is defined else 'x' }}",
        )
    return (f"`{text}` is not allowed in templates", f"templates look like {ALLOWED_SPELLING}")
