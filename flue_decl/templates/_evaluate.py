"""Rendering a parsed template (``_syntax``'s tree) against the environment, as Jinja2
renders it: every missing variable found, every intermediate value checked against the
output cap before it is built."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping

from ._core import MAX_MISSING, MAX_OUTPUT_CHARS, NOT_TEXT, TOO_LONG, Rendered
from ._syntax import CONCAT, DEFAULT, DEFINED, FILTERED, IF, REF, TEXT, Node, Template


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
    tag = node[0]
    if tag == TEXT:
        return str(node[1])
    if tag == REF:
        found = env.get(node[1])
        return _Undefined(node[1]) if found is None else found
    if tag == CONCAT:
        # Every part is evaluated before any is made text, as Jinja2's join does: a filter
        # on a later part reports its missing variable before an earlier bare one.
        values = [_evaluate(part, env) for part in node[1]]
        return _joined([_text(value) for value in values])
    if tag == IF:
        _, condition, then, otherwise = node
        if condition[0] == DEFINED:
            chosen = (env.get(condition[1]) is not None) != condition[2]
        else:
            chosen = bool(_text(_evaluate(condition, env)))
        return _evaluate(then if chosen else otherwise, env)
    if tag == FILTERED:
        value: Value = _evaluate(node[1], env)
        for name, args, replace_empty in node[2]:
            # Arguments are evaluated before the filter runs, used or not, as in Jinja2.
            value = _apply(name, replace_empty, value, [_evaluate(arg, env) for arg in args])
        return value
    raise TypeError(f"not a value: {node!r}")  # DEFINED only appears as a condition


def _apply(name: str, replace_empty: bool, value: Value, args: list[Value]) -> Value:
    if name == DEFAULT:
        if isinstance(value, _Undefined) or (replace_empty and not value):
            return args[0] if args else ""
        return value
    text = _text(value)
    if name == "lower":
        return text.lower()
    if name == "upper":
        return text.upper()
    if name == "trim":
        return text.strip()
    if name == "urlencode":
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:  # bytes of the environment that are not UTF-8
            raise _NotText from None
        import urllib.parse  # here: only urlencode needs it

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
    Jinja2 finds them: each missing one stands in as empty to find the next, up to
    ``MAX_MISSING``), or a value longer than the output cap."""
    missing: list[str] = []
    defined: dict[str, str] = {}
    # Looked up through, not copied: `env` may be a Namespace whose secrets are read by name.
    view: Mapping[str, str] = ChainMap(defined, env)  # type: ignore[arg-type]
    while True:  # at most once per variable: each pass defines the one it missed
        try:
            out = _joined([_text(_evaluate(part, view)) for part in template])
        except _Missing as exc:
            missing.append(exc.name)
            if len(missing) == MAX_MISSING:
                return Rendered(None, tuple(missing))
            defined[exc.name] = ""
            continue
        except _TooLong:
            return Rendered(None, tuple(missing), TOO_LONG)
        except _NotText:
            return Rendered(None, tuple(missing), NOT_TEXT)
        if missing:
            return Rendered(None, tuple(missing))
        return Rendered(out)
