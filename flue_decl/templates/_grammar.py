"""The template language: a closed subset of Jinja2's expression syntax, parsed and
evaluated here.

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
(the test suite renders every generated template both ways), and its work is bounded by
construction: parsing is linear in the template's length, nesting is capped, and every
intermediate value is checked against the output cap before it is built.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections import ChainMap
from collections.abc import Mapping
from typing import NamedTuple

from ._core import (
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_NESTING,
    NOT_TEXT,
    SECRET,
    TOO_LONG,
    Rendered,
    TemplateProblem,
)

SECRET_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")
FILTERS = ("default", "d", "lower", "upper", "trim", "replace", "urlencode")
MAX_FILTERS = 16  # per chain: `| lower | lower | ...` has no use past a few


# -- the syntax tree ----------------------------------------------------------------------


class Text(NamedTuple):
    value: str


class Ref(NamedTuple):
    name: str


class Defined(NamedTuple):
    name: str
    negated: bool


class Filter(NamedTuple):
    name: str  # canonical: "d" is "default"
    args: tuple[Node, ...]
    replace_empty: bool = False  # default(x, true)


class Filtered(NamedTuple):
    base: Node
    filters: tuple[Filter, ...]


class Concat(NamedTuple):
    parts: tuple[Node, ...]


class If(NamedTuple):
    condition: Node
    then: Node
    otherwise: Node


Node = Text | Ref | Defined | Filtered | Concat | If


class Template(NamedTuple):
    """A parsed template: literal text and expressions, in order."""

    parts: tuple[Node, ...]


# -- parsing ------------------------------------------------------------------------------


class TemplateRefused(Exception):
    def __init__(self, problem: TemplateProblem) -> None:
        self.problem = problem


def _refuse(message: str, hint: str | None = None, code: str = "template-not-allowed") -> None:
    raise TemplateRefused(TemplateProblem(code, message, hint))


_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<close>\}\})
      | (?P<string>'[^'\\]*'|"[^"\\]*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<number>[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9_]+)?)
      | (?P<punct>\*\*|//|==|!=|<=|>=|[.\[\]()|~,])
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALLOWED_SPELLING = "{{ env.NAME }}, {{ env['NAME'] | default('value') }}"
FILTER_LIST = "default (d), lower, upper, trim, replace, urlencode"


class _Token(NamedTuple):
    kind: str  # string | name | number | punct | close | end
    text: str
    at: int  # offset in the template


def _tokens(source: str, start: int) -> tuple[list[_Token], int]:
    """The tokens of the expression starting at ``start`` (just after ``{{``), through its
    ``}}``; the offset after it."""
    out: list[_Token] = []
    position = start
    while position < len(source):
        match = _TOKEN.match(source, position)
        assert match is not None  # `other` matches any character
        kind, text = match.lastgroup or "other", match.group()
        position = match.end()
        if kind == "space":
            continue
        if kind == "close":
            out.append(_Token("close", text, match.start()))
            return out, position
        if kind == "other" and text in "-+" and source.startswith("}}", position):
            _refuse("whitespace control ({{- ... -}}) is not allowed in templates")
        if kind == "other" or (kind == "punct" and text not in ".[]()|~,"):
            _refuse(*_operator_problem(text, out))
        out.append(_Token(kind, text, match.start()))
    _refuse(
        "`{{` without its closing `}}`",
        f"templates look like {_ALLOWED_SPELLING}",
        "template-syntax",
    )
    raise AssertionError("unreachable")


def _operator_problem(text: str, before: list[_Token]) -> tuple[str, str]:
    if text == "-" and len(before) >= 3 and before[-2].text == "." and before[-3].text == "env":
        return (
            "`-` is subtraction here, not part of a variable name",
            "names with dashes are written env['NAME-WITH-DASHES']",
        )
    if text in ("+", "-", "*", "/", "%", "**", "//"):
        return (
            f"arithmetic (`{text}`) is not allowed in templates",
            "join strings with ~, e.g. {{ 'Bearer ' ~ env.TOKEN }}",
        )
    if text == "}":
        return ("a single `}`: an expression ends with `}}`", "{{ env.NAME }}")
    if text == "{":
        return ("dicts are not allowed in templates", f"templates look like {_ALLOWED_SPELLING}")
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
    return (f"`{text}` is not allowed in templates", f"templates look like {_ALLOWED_SPELLING}")


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> _Token:
        at = self.index + offset
        return self.tokens[at] if at < len(self.tokens) else _Token("end", "", -1)

    def take(self) -> _Token:
        token = self.peek()
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token.kind in ("punct", "name") and token.text == text:
            self.index += 1
            return True
        return False

    def expect(self, text: str, what: str) -> None:
        if not self.accept(text):
            found = self.peek()
            got = "the end of the expression" if found.kind in ("close", "end") else found.text
            _refuse(
                f"expected {what}, found `{got}`",
                f"templates look like {_ALLOWED_SPELLING}",
                "template-syntax",
            )

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_TEMPLATE_NESTING:
            _refuse(
                f"template nests deeper than {MAX_TEMPLATE_NESTING} levels",
                f"a configuration value needs only {_ALLOWED_SPELLING}",
            )

    # expression := concat ["if" condition "else" expression]
    def expression(self) -> Node:
        self.nested()
        value = self.concat()
        if self.accept("if"):
            condition = self.condition()
            if not self.accept("else"):
                _refuse(
                    "an inline if needs its else",
                    "{{ env.A if env.A is defined else 'fallback' }}",
                )
            value = If(condition, value, self.expression())
        self.depth -= 1
        return value

    def condition(self) -> Node:
        start = self.index
        if self.peek().text in ("env", "secret"):
            reference = self.reference()
            if self.accept("is"):
                negated = self.accept("not")
                if not self.accept("defined"):
                    _refuse(
                        "the only test is `is defined` (or `is not defined`)",
                        "{{ env.A if env.A is defined else 'x' }}",
                    )
                return Defined(reference.name, negated)
            self.index = start
        return self.concat()

    def concat(self) -> Node:
        parts = [self.filtered()]
        while self.accept("~"):
            parts.append(self.filtered())
        return parts[0] if len(parts) == 1 else Concat(tuple(parts))

    def filtered(self) -> Node:
        base = self.primary()
        filters: list[Filter] = []
        while self.accept("|"):
            filters.append(self.filter())
            if len(filters) > MAX_FILTERS:
                _refuse(
                    f"more than {MAX_FILTERS} filters in a row",
                    "a value needs a few filters at most: {{ env.A | trim | lower }}",
                )
        if self.peek().text == "is":
            _refuse(
                "`is` tests are allowed only as the condition of an inline if",
                "{{ env.A if env.A is defined else 'x' }}",
            )
        return Filtered(base, tuple(filters)) if filters else base

    def filter(self) -> Filter:
        token = self.take()
        if token.kind != "name":
            _refuse(
                "expected a filter name after `|`",
                f"the filters are {FILTER_LIST}",
                "template-syntax",
            )
        name = "default" if token.text == "d" else token.text
        if name not in FILTERS:
            _refuse(f"unknown filter `{token.text}`", f"the filters are {FILTER_LIST}")
        args: list[Node] = []
        flags: list[str] = []
        if self.accept("("):
            self.nested()
            while not self.accept(")"):
                if args:
                    self.expect(",", "`,` or `)`")
                if name == "default" and len(args) == 1:
                    flag = self.take()
                    if flags or flag.text not in ("true", "True", "false", "False"):
                        _refuse(
                            "default takes a value and, optionally, true or false",
                            "{{ env.A | default('x') }}, or default('x', true) to replace an "
                            "empty value too",
                        )
                    flags.append(flag.text)
                    continue
                args.append(self.expression())
            self.depth -= 1
        replace_empty = flags in (["true"], ["True"])
        expected = {"default": (0, 1), "replace": (2, 2)}.get(name, (0, 0))
        if not expected[0] <= len(args) <= expected[1]:
            _refuse(
                f"`{token.text}` takes {_arguments(expected)}",
                "{{ env.A | replace('-', '_') }}" if name == "replace" else None,
            )
        if name == "replace" and not all(isinstance(a, Text) for a in args):
            _refuse("replace takes two quoted strings", "{{ env.A | replace('-', '_') }}")
        return Filter(name, tuple(args), replace_empty)

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "string":
            self.index += 1
            return Text(token.text[1:-1])
        if token.kind == "name" and token.text in ("env", "secret"):
            return self.reference()
        if token.kind == "number":
            _refuse(
                f"`{token.text}` is a number; template values are strings",
                f"quote it: '{token.text}'",
            )
        if self.accept("("):
            value = self.expression()
            self.expect(")", "`)`")
            return value
        if token.kind == "name" and token.text in (
            "true",
            "True",
            "false",
            "False",
            "none",
            "None",
        ):
            _refuse(
                f"`{token.text}` is not a value in a template; values are strings",
                "default('x', true) takes true as its second argument; quote text: 'true'",
            )
        if token.kind == "name":
            hint = (
                "GitHub Actions secrets are not visible here: export the secret as an "
                "environment variable and write {{ env.NAME }}"
                if token.text in ("secrets", "vars")
                else "read environment variables as {{ env.NAME }}"
            )
            if token.text == "os":
                named = next(
                    (t.text[1:-1] for t in self.tokens[self.index :] if t.kind == "string"), "NAME"
                )
                hint = (
                    f"write {{{{ env.{named} }}}}"
                    if named.isidentifier()
                    else f"write {{{{ env['{named}'] }}}}"
                )
            _refuse(
                f"template uses `{token.text}`; the variables are `env` and `secret`",
                hint,
                "template-unknown-variable",
            )
        if token.text == "[":
            _refuse(
                "lists are not allowed in templates", f"templates look like {_ALLOWED_SPELLING}"
            )
        got = "the end of the expression" if token.kind in ("close", "end") else token.text
        _refuse(
            f"expected a value, found `{got}`",
            f"templates look like {_ALLOWED_SPELLING}",
            "template-syntax",
        )
        raise AssertionError("unreachable")

    def reference(self) -> Ref:
        source = self.take().text  # env or secret
        ref = self.env_reference() if source == "env" else self.secret_reference()
        following = self.peek()
        if following.text == "(":
            what = f"{source}.{ref.name}" if ref.name.isidentifier() else source
            _refuse(
                "function and method calls are not allowed in templates",
                "read a variable as {{ env.NAME }} (with a fallback: "
                "{{ env.NAME | default('value') }})"
                if ref.name in ("get", "items", "keys", "values", "pop", "setdefault")
                else f"use a filter instead of a method: {{{{ {what} | lower }}}}",
            )
        if following.text in (".", "["):
            _refuse(
                f"only env and secret have attributes: `{following.text}` after "
                f"{source}.{ref.name}",
                "use a filter, e.g. {{ env.NAME | lower }}, or env['NAME.WITH.DOTS']",
            )
        return ref if source == "env" else Ref(SECRET + ref.name)

    def secret_reference(self) -> Ref:
        if self.accept("."):
            name = self.take()
            if name.kind != "name":
                _refuse(
                    "expected a file name after `secret.`",
                    "secret.NAME or secret['NAME']",
                    "template-syntax",
                )
            text = name.text
        elif self.accept("["):
            key = self.take()
            if key.kind != "string":
                _refuse(
                    "secret[...] takes a quoted file name, not an expression",
                    "secret['NAME']: the name is fixed where the file is reviewed",
                )
            self.expect("]", "`]`")
            text = key.text[1:-1]
        else:
            _refuse("`secret` is looked up by name only", "secret.NAME or secret['NAME']")
            raise AssertionError("unreachable")
        if not SECRET_NAME.fullmatch(text) or text in (".", ".."):
            _refuse(
                "a secret is a file name in the secrets directory: letters, digits, `_`, `-` "
                "and `.`, no `/` and not `..`",
                "secret.NAME or secret['db-password']",
            )
        return Ref(text)

    def env_reference(self) -> Ref:
        if self.accept("."):
            name = self.take()
            if name.kind != "name":
                _refuse(
                    "expected a variable name after `env.`",
                    "env.NAME or env['NAME']",
                    "template-syntax",
                )
            if name.text.startswith("_"):
                _refuse(
                    f"`env.{name.text}` is not allowed",
                    f"write env['{name.text}'] for a variable whose name starts with _",
                )
            ref = Ref(name.text)
        elif self.accept("["):
            key = self.take()
            if key.kind != "string":
                _refuse(
                    "env[...] takes a quoted variable name, not an expression",
                    "env['NAME']: the name is fixed where the file is reviewed",
                )
            self.expect("]", "`]`")
            ref = Ref(key.text[1:-1])
        else:
            _refuse("`env` is looked up by name only", "env.NAME or env['NAME']")
            raise AssertionError("unreachable")
        return ref


def _arguments(expected: tuple[int, int]) -> str:
    low, high = expected
    if high == 0:
        return "no arguments"
    if low == high:
        return f"{low} arguments"
    return f"at most {high} argument{'s' if high > 1 else ''}"


@functools.lru_cache(maxsize=4096)
def parse(source: str) -> Template | TemplateProblem:
    """The parsed template, or why it is not one this language accepts."""
    try:
        return _parse(source)
    except TemplateRefused as refused:
        return refused.problem


def _parse(source: str) -> Template:
    if _CONTROL.search(source):
        _refuse(
            "a template cannot contain line breaks or control characters",
            "write the value on one line",
        )
    parts: list[Node] = []
    position = 0
    while position < len(source):
        opening = source.find("{", position)
        while opening != -1 and source[opening : opening + 2] not in ("{{", "{%", "{#"):
            opening = source.find("{", opening + 1)
        if opening == -1:
            parts.append(Text(source[position:]))
            break
        if opening > position:
            parts.append(Text(source[position:opening]))
        marker = source[opening : opening + 2]
        if marker != "{{":
            _refuse(
                "only {{ expressions }} are allowed in values, not {% statements %} or "
                "{# comments #}",
                "use an inline if: {{ env.A if env.A is defined else 'x' }}, or default()",
            )
        if source.startswith(("{{-", "{{+"), opening):
            _refuse("whitespace control ({{- ... -}}) is not allowed in templates")
        tokens, position = _tokens(source, opening + 2)
        parser = _Parser(tokens[:-1])
        parts.append(parser.expression())
        if parser.index < len(parser.tokens):
            extra = parser.peek()
            if extra.text == "(":
                _refuse(
                    "function and method calls are not allowed in templates",
                    f"templates look like {_ALLOWED_SPELLING}",
                )
            if extra.text == "[":
                _refuse("subscripts are allowed only on env: env['NAME']")
            _refuse(
                f"unexpected `{extra.text}`",
                f"templates look like {_ALLOWED_SPELLING}",
                "template-syntax",
            )
    return Template(tuple(parts))


# -- evaluation ---------------------------------------------------------------------------


class _Undefined:
    """A variable that is not set, as a value: what ``default`` and ``is defined`` see."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Missing(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


class _TooLong(Exception):
    pass


class _NotText(Exception):
    pass


Value = str | _Undefined


def _text(value: Value) -> str:
    if isinstance(value, _Undefined):
        raise _Missing(value.name)
    return value


def _joined(pieces: list[str]) -> str:
    if sum(map(len, pieces)) > MAX_OUTPUT_CHARS:
        raise _TooLong
    return "".join(pieces)


def _evaluate(node: Node, env: Mapping[str, str]) -> Value:
    if isinstance(node, Text):
        return node.value
    if isinstance(node, Ref):
        found = env.get(node.name)
        return _Undefined(node.name) if found is None else found
    if isinstance(node, Concat):
        # Every part is evaluated before any is made text, as Jinja2's join does: a filter
        # on a later part reports its missing variable before an earlier bare one.
        values = [_evaluate(part, env) for part in node.parts]
        return _joined([_text(value) for value in values])
    if isinstance(node, If):
        condition = node.condition
        if isinstance(condition, Defined):
            chosen = (env.get(condition.name) is not None) != condition.negated
        else:
            chosen = bool(_text(_evaluate(condition, env)))
        return _evaluate(node.then if chosen else node.otherwise, env)
    if isinstance(node, Filtered):
        value: Value = _evaluate(node.base, env)
        for step in node.filters:
            # Arguments are evaluated before the filter runs, used or not, as in Jinja2.
            value = _apply(step, value, [_evaluate(arg, env) for arg in step.args])
        return value
    raise TypeError(f"not a value: {node!r}")  # Defined only appears as a condition


def _apply(step: Filter, value: Value, args: list[Value]) -> Value:
    if step.name == "default":
        if isinstance(value, _Undefined) or (step.replace_empty and not value):
            return args[0] if args else ""
        return value
    text = _text(value)
    if step.name == "lower":
        return text.lower()
    if step.name == "upper":
        return text.upper()
    if step.name == "trim":
        return text.strip()
    if step.name == "urlencode":
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:  # bytes of the environment that are not UTF-8
            raise _NotText from None
        quoted = urllib.parse.quote_from_bytes(encoded, b"/")
        if len(quoted) > MAX_OUTPUT_CHARS:
            raise _TooLong
        return quoted
    old, new = (_text(arg) for arg in args)
    grows = max(0, len(new) - len(old)) * (text.count(old) if old else len(text) + 1)
    if len(text) + grows > MAX_OUTPUT_CHARS:
        raise _TooLong
    return text.replace(old, new)


def evaluate(template: Template, env: Mapping[str, str]) -> Rendered:
    """``template`` rendered against ``env``: its value, or every variable it misses (as
    Jinja2 finds them: each missing one stands in as empty to find the next), or a value
    longer than the output cap."""
    missing: list[str] = []
    defined: dict[str, str] = {}
    # Looked up through, not copied: `env` may be a Namespace whose secrets are read by name.
    view: Mapping[str, str] = ChainMap(defined, env)  # type: ignore[arg-type]
    while True:  # at most once per variable: each pass defines the one it missed
        try:
            out = _joined([_text(_evaluate(part, view)) for part in template.parts])
        except _Missing as exc:
            missing.append(exc.name)
            defined[exc.name] = ""
            continue
        except _TooLong:
            return Rendered(None, tuple(missing), TOO_LONG)
        except _NotText:
            return Rendered(None, tuple(missing), NOT_TEXT)
        if missing:
            return Rendered(None, tuple(missing))
        return Rendered(out)
