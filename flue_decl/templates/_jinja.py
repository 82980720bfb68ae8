"""Templates as Jinja2 itself parses them, and the closed subset this package accepts.

Jinja2's own lexer and parser read a template; a walk of its syntax tree accepts the
language ``_grammar`` draws and builds that module's plain-tuple syntax tree, refusing
everything else with a message and a hint. Jinja2's code generator and runtime are never
used: ``_evaluate`` renders what was accepted, and the emitted module's JavaScript is
generated from the same tree.

Jinja2's parser is recursive, so its work is bounded before it runs (``_jinja_scan``:
a scan of the lexer's tokens). The walk descends only where that scan bounded the depth;
a chain of filters or subscripts, which Jinja2 builds as deep as it is long, is followed
by a loop.
"""

from __future__ import annotations

import contextlib
from typing import Any, NoReturn

import jinja2
from jinja2 import nodes

from ._core import SECRET
from ._jinja_scan import scan
from ._syntax import (
    ALLOWED_SPELLING,
    CONCAT,
    DEFAULT,
    DEFINED,
    FILTER_LIST,
    FILTERED,
    FILTERS,
    IF,
    MAX_FILTERS,
    REF,
    SECRET_NAME,
    TEXT,
    Node,
    Template,
    TemplateRefused,
    refuse,
    secret_ref,
)

# Parses only: nothing is ever compiled or rendered with it.
_JINJA = jinja2.Environment(autoescape=False)
_METHODS = ("get", "items", "keys", "values", "pop", "setdefault")


def parse(source: str) -> Template:
    """``source`` in the language, as a syntax tree; raises TemplateRefused."""
    scan(source, _JINJA)
    try:
        tree = _JINJA.parse(source)
    except jinja2.TemplateSyntaxError as error:
        message = error.message or "the template does not parse"
        if message.startswith("Expected an expression"):
            message = "expected a value, found the end of the expression"
        refuse(message, f"templates look like {ALLOWED_SPELLING}", "template-syntax")
    parts: list[Node] = []
    for output in tree.body:  # the scan let only text and {{ expressions }} through
        assert isinstance(output, nodes.Output)
        parts.extend(_value(node) for node in output.nodes)
    return tuple(parts)


# -- the walk: Jinja2's tree to the language's, or why not ---------------------------------


def _value(node: nodes.Node) -> Node:
    if isinstance(node, nodes.TemplateData):
        return (TEXT, node.data)
    if isinstance(node, nodes.Const):
        return _constant(node.value)
    if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
        return (REF, _reference(node))
    if isinstance(node, nodes.Filter):
        return _filtered(node)
    if isinstance(node, nodes.Concat):
        return (CONCAT, tuple(_value(part) for part in node.nodes))
    if isinstance(node, nodes.CondExpr):
        if node.expr2 is None:
            refuse(
                "an inline if needs its else", "{{ env.A if env.A is defined else 'fallback' }}"
            )
        return (IF, _condition(node.test), _value(node.expr1), _value(node.expr2))
    if isinstance(node, nodes.Test) or (
        isinstance(node, nodes.Not) and isinstance(node.node, nodes.Test)
    ):
        test = node.node if isinstance(node, nodes.Not) else node
        assert isinstance(test, nodes.Test)  # what the condition above found
        tested = "env.A"
        if isinstance(test.node, nodes.Getattr | nodes.Getitem):
            with contextlib.suppress(TemplateRefused):
                tested = _spelled(test.node)
        refuse(
            "`is` tests are allowed only as the condition of an inline if",
            f"{{{{ {tested} if {tested} is defined else 'x' }}}}",
        )
    if isinstance(node, nodes.Call):
        _call(node)
    refuse(*_not_a_value(node))


def _not_a_value(node: nodes.Node) -> tuple[str, str]:
    if isinstance(node, nodes.List | nodes.Tuple):
        return ("lists are not allowed in templates", f"templates look like {ALLOWED_SPELLING}")
    if isinstance(node, nodes.Dict):
        return ("dicts are not allowed in templates", f"templates look like {ALLOWED_SPELLING}")
    if isinstance(node, nodes.Not | nodes.And | nodes.Or):
        word = {nodes.Not: "not", nodes.And: "and", nodes.Or: "or"}[type(node)]
        return (
            f"`{word}` is not allowed in templates (`is not defined` is)",
            "choose with {{ env.A if env.A is defined else 'x' }}",
        )
    if isinstance(node, nodes.Compare):
        return (
            f"comparisons (`{node.ops[0].op}`) are not allowed in templates",
            "choose with {{ env.A if env.A is defined else 'x' }}",
        )
    what = type(node).__name__.lower()
    return (f"`{what}` expressions are not allowed", f"templates look like {ALLOWED_SPELLING}")


def _constant(value: Any) -> Node:
    if isinstance(value, str):
        return (TEXT, value)
    if isinstance(value, bool) or value is None:
        spelled = str(value).lower()
        refuse(
            f"`{spelled}` is not a value in a template; values are strings",
            "default('x', true) takes true as its second argument; quote text: 'true'",
        )
    refuse(f"`{value}` is a number; template values are strings", f"quote it: '{value}'")


_AS_FILTER = {"lower": "lower", "upper": "upper", "strip": "trim", "replace": "replace"}


def _call(node: nodes.Call) -> NoReturn:
    """A call: refused, with the form that does what it meant, in the template's own names
    (``env.get('X', 'd')`` is ``env.X | default('d')``, ``env.X.upper()`` is
    ``env.X | upper``)."""
    callee = node.node
    name = callee.attr if isinstance(callee, nodes.Getattr) else ""
    texts = [a.value for a in node.args if isinstance(a, nodes.Const) and isinstance(a.value, str)]
    whole = len(texts) == len(node.args) and not node.kwargs
    hint = "read a variable as {{ env.NAME }} (with a fallback: {{ env.NAME | default('value') }})"
    if isinstance(callee, nodes.Getattr):
        target = callee.node
        on_env = isinstance(target, nodes.Name) and target.name in ("env", "secret")
        if on_env and name == "get" and whole and 1 <= len(texts) <= 2:
            assert isinstance(target, nodes.Name)
            read = written(target.name, texts[0])
            fallback = f" | default({_quoted(texts[1])})" if len(texts) == 2 else ""
            hint = f"write {{{{ {read}{fallback} }}}}"
        elif not on_env and name not in _METHODS:
            what = "env.NAME"
            if isinstance(target, nodes.Getattr | nodes.Getitem):
                with contextlib.suppress(TemplateRefused):  # a method on something else
                    what = _spelled(target)
            step = _AS_FILTER.get(name, "lower")
            if step == "replace" and whole and len(texts) == 2:
                step = f"replace({_quoted(texts[0])}, {_quoted(texts[1])})"
            hint = f"use a filter instead of a method: {{{{ {what} | {step} }}}}"
    refuse("function and method calls are not allowed in templates", hint)


def written(source: str, name: str) -> str:
    """How ``env``/``secret`` ``name`` is written: ``env.NAME``, or ``env['NAME-X']``."""
    return f"{source}.{name}" if name.isidentifier() and not name.startswith("_") else (
        f"{source}[{_quoted(name)}]"
    )


def _quoted(text: str) -> str:
    return f'"{text}"' if "'" in text else f"'{text}'"


def _spelled(node: nodes.Getattr | nodes.Getitem) -> str:
    """How a reference is written back: ``env.NAME`` or ``env['NAME-X']``."""
    name = _reference(node)
    if name.startswith(SECRET):
        return written("secret", name[len(SECRET) :])
    return written("env", name)


def _reference(node: nodes.Node) -> str:
    """The name an ``env``/``secret`` lookup reads (a secret's as ``secret_ref``)."""
    if isinstance(node, nodes.Name):
        if node.name in ("env", "secret"):
            refuse(
                f"`{node.name}` is looked up by name only",
                f"{node.name}.NAME or {node.name}['NAME']",
            )
        _unknown(node.name, None)
    assert isinstance(node, nodes.Getattr | nodes.Getitem)
    target = node.node
    if not (isinstance(target, nodes.Name) and target.name in ("env", "secret")):
        _not_a_lookup(node)
    source = target.name
    if isinstance(node, nodes.Getattr):
        name = node.attr
        if source == "env" and name.startswith("_"):
            refuse(
                f"`env.{name}` is not allowed",
                f"write env['{name}'] for a variable whose name starts with _",
            )
    else:
        key = node.arg
        if not (isinstance(key, nodes.Const) and isinstance(key.value, str)):
            refuse(
                f"{source}[...] takes a quoted {'file' if source == 'secret' else 'variable'} "
                "name, not an expression",
                f"{source}['NAME']: the name is fixed where the file is reviewed",
            )
        name = key.value
    if source == "env":
        return name
    if not SECRET_NAME.fullmatch(name) or name in (".", ".."):
        refuse(
            "a secret is a file name in the secrets directory: letters, digits, `_`, `-` "
            "and `.`, no `/` and not `..`",
            "secret.NAME or secret['db-password']",
        )
    return secret_ref(name)


def _not_a_lookup(node: nodes.Getattr | nodes.Getitem) -> NoReturn:
    """A subscript or attribute of something other than ``env`` or ``secret``: say what it
    is on, found by a loop down the chain (Jinja2 builds it as deep as it is long)."""
    chain: list[nodes.Node] = [node]
    inner: nodes.Node | None = node.node
    while isinstance(inner, nodes.Getattr | nodes.Getitem | nodes.Call | nodes.Filter):
        chain.append(inner)
        inner = inner.node
    if isinstance(inner, nodes.Name):
        if inner.name in ("env", "secret"):
            lookup = chain[-1]  # what is applied to env or secret itself
            if isinstance(lookup, nodes.Call):
                _call(lookup)
            if isinstance(lookup, nodes.Filter):
                refuse(
                    f"`{inner.name}` is looked up by name only, not filtered as a whole",
                    f"{inner.name}.NAME or {inner.name}['NAME'], then a filter: "
                    "{{ env.NAME | lower }}",
                )
            following = "." if isinstance(chain[-2], nodes.Getattr) else "["
            refuse(
                f"only env and secret have attributes: `{following}` after "
                f"{_spelled(lookup) if isinstance(lookup, nodes.Getattr) else inner.name}",
                "use a filter, e.g. {{ env.NAME | lower }}, or env['NAME.WITH.DOTS']",
            )
        named = next(
            (
                link.arg.value
                for link in reversed(chain)
                if isinstance(link, nodes.Getitem)
                and isinstance(link.arg, nodes.Const)
                and isinstance(link.arg.value, str)
            ),
            None,
        )
        _unknown(inner.name, named)
    if isinstance(inner, nodes.List | nodes.Tuple | nodes.Dict):
        refuse(*_not_a_value(inner))
    refuse("subscripts are allowed only on env: env['NAME']")


def _unknown(name: str, named: str | None) -> NoReturn:
    if name in ("secrets", "vars"):
        hint = (
            "GitHub Actions secrets are not visible here: export the secret as an "
            "environment variable and write {{ env.NAME }}"
        )
    elif name == "os":
        named = named or "NAME"
        spelled = f"env.{named}" if named.isidentifier() else f"env['{named}']"
        hint = f"write {{{{ {spelled} }}}}"
    else:
        hint = "read environment variables as {{ env.NAME }}"
    refuse(
        f"template uses `{name}`; the variables are `env` and `secret`",
        hint,
        "template-unknown-variable",
    )


def _condition(node: nodes.Node) -> Node:
    negated = isinstance(node, nodes.Not) and isinstance(node.node, nodes.Test)
    test = node.node if negated else node  # type: ignore[attr-defined]
    if not isinstance(test, nodes.Test):
        return _value(node)
    if test.name != "defined" or test.args or test.kwargs or test.dyn_args or test.dyn_kwargs:
        refuse(
            "the only test is `is defined` (or `is not defined`)",
            "{{ env.A if env.A is defined else 'x' }}",
        )
    if not isinstance(test.node, nodes.Getattr | nodes.Getitem | nodes.Name):
        refuse(
            "`is defined` tests a variable: env.NAME or secret.NAME",
            "{{ env.A if env.A is defined else 'x' }}",
        )
    return (DEFINED, _reference(test.node), negated)


def _filtered(node: nodes.Filter) -> Node:
    chain: list[nodes.Filter] = []
    base: nodes.Node | None = node
    while isinstance(base, nodes.Filter):  # a loop: Jinja2 nests them as deep as they are many
        chain.append(base)
        if len(chain) > MAX_FILTERS:
            refuse(
                f"more than {MAX_FILTERS} filters in a row",
                "a value needs a few filters at most: {{ env.A | trim | lower }}",
            )
        base = base.node
    if base is None:  # only a {% filter %} block has none, and the scan refuses those
        refuse("a filter needs a value: {{ env.NAME | lower }}")
    value = _value(base)
    return (FILTERED, value, tuple(_filter(step) for step in reversed(chain)))


def _filter(step: nodes.Filter) -> tuple[str, tuple[Node, ...], bool]:
    name = DEFAULT if step.name == "d" else step.name
    if name not in FILTERS:
        refuse(f"unknown filter `{step.name}`", f"the filters are {FILTER_LIST}")
    if step.kwargs or step.dyn_args or step.dyn_kwargs:
        refuse(
            f"`{step.name}` takes its arguments in order, without names",
            "{{ env.A | default('x', true) }}, {{ env.A | replace('-', '_') }}",
        )
    args = list(step.args)
    replace_empty = False
    if name == DEFAULT and len(args) > 1:
        flag = args[1]
        if len(args) > 2 or not (isinstance(flag, nodes.Const) and isinstance(flag.value, bool)):
            refuse(
                "default takes a value and, optionally, true or false",
                "{{ env.A | default('x') }}, or default('x', true) to replace an empty value too",
            )
        replace_empty = flag.value
        args = args[:1]
    given = [getattr(arg, "value", None) for arg in args]
    for number in given:  # a number where text belongs: the filter as it would be written
        if isinstance(number, int | float) and not isinstance(number, bool):
            quoted = ", ".join(
                "..." if value is None or isinstance(value, bool) else f"'{value}'"
                for value in given
            )
            refuse(
                f"`{number}` is a number; template values are strings",
                f"quote it: {_written_base(step.node)} | {step.name}({quoted}) }}}}",
            )
    values = tuple(_value(arg) for arg in args)
    expected = {DEFAULT: (0, 1), "replace": (2, 2)}.get(name, (0, 0))
    if not expected[0] <= len(values) <= expected[1]:
        refuse(
            f"`{step.name}` takes {_arguments(expected)}",
            "{{ env.A | replace('-', '_') }}" if name == "replace" else None,
        )
    if name == "replace" and not all(isinstance(a, nodes.Const) for a in args):
        refuse("replace takes two quoted strings", "{{ env.A | replace('-', '_') }}")
    return (name, values, replace_empty)


def _written_base(node: nodes.Node | None) -> str:
    """What a filter applies to, as the user wrote it when it is a lookup; else ``...``."""
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        with contextlib.suppress(TemplateRefused):
            return "{{ " + _spelled(node)
    return "{{ ..."


def _arguments(expected: tuple[int, int]) -> str:
    low, high = expected
    if high == 0:
        return "no arguments"
    if low == high:
        return f"{low} arguments"
    return f"at most {high} argument{'s' if high > 1 else ''}"


