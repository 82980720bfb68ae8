"""What a YAML scalar may be: the plain YAML tags, and numbers written so that YAML 1.1,
JSON and JavaScript read the same value."""

from __future__ import annotations

import math
import re
from typing import Any

from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import ScalarEvent
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"
SCALAR_TAGS = {
    NULL_TAG: "null",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:int": "integer",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:timestamp": "date",
    "tag:yaml.org,2002:binary": "binary",
    STR_TAG: "string",
}
COLLECTION_TAGS = {None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}

_RESOLVER = Resolver()
assert not _RESOLVER.yaml_path_resolvers  # tags depend on the scalar's text alone
_PLAIN_TAGS: dict[str, str] = {}  # plain scalars' tags: a tree repeats its keys in every file
_MAX_PLAIN_TAGS = 4096


def resolve_tag(value: str, plain: bool) -> str:
    """The tag YAML 1.1 gives an untagged scalar: by its text when written plain, else
    ``str`` (PyYAML's ``Resolver.resolve``, remembered for short texts)."""
    if not plain:
        return STR_TAG
    tag = _PLAIN_TAGS.get(value)
    if tag is None:
        tag = str(_RESOLVER.resolve(ScalarNode, value, (True, False)))  # type: ignore[no-untyped-call]
        if len(value) <= 64 and len(_PLAIN_TAGS) < _MAX_PLAIN_TAGS:
            _PLAIN_TAGS[value] = tag
    return tag


# What JSON and JavaScript read as the same number: plain decimal digits.
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
MAX_SAFE_INTEGER = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER


def implicit_text(value: Any) -> tuple[str, str] | None:
    """The (kind, source text) a YAML-typed scalar is taken to have been written as when
    none is kept: a dense file of numbers would keep a text for each. Strings and
    collections: None."""
    if isinstance(value, bool):
        return ("boolean", "true" if value else "false")
    if isinstance(value, int):
        return ("integer", str(value))
    if isinstance(value, float):
        return ("number", repr(value))
    if value is None:
        return ("null", "")
    return None


def number_problem(kind: str, raw: str, value: Any) -> tuple[str, str] | None:
    """Why a YAML number cannot stand in a document, with a fix: YAML 1.1 spellings that
    read as something else than they look, numbers JSON cannot hold, and integers
    JavaScript cannot hold exactly."""
    if kind == "number" and isinstance(value, float):
        if not math.isfinite(value):
            return (
                f"`{raw}` is not a finite number; JSON and Flue's runtime have no such value",
                "write a number, or quote it to keep the text",
            )
        if not _PLAIN_FLOAT.fullmatch(raw):
            what = (
                "a sexagesimal (base 60) number" if ":" in raw else "a number with `_` separators"
            )
            return (
                f"`{raw}` is {what} in YAML 1.1: it reads as {value}",
                f"write {value} if that is meant, or quote it to keep the text",
            )
        return None
    if kind != "integer" or not isinstance(value, int):
        return None
    if not _DECIMAL.fullmatch(raw):
        if ":" in raw:
            what = "a sexagesimal (base 60) number"
        elif raw.lstrip("+-").startswith(("0x", "0b")):
            what = "a hexadecimal or binary number"
        elif "_" in raw:
            what = "a number with `_` separators"
        else:
            what = "an octal number"
        return (
            f"`{raw}` is {what} in YAML 1.1: it reads as {value}",
            f"write {value} if that is meant, or quote it to keep the text",
        )
    if abs(value) > MAX_SAFE_INTEGER:
        return (
            f"{raw} is larger than JavaScript can represent exactly (2^53 - 1): Flue's runtime "
            "would read another number",
            "use a smaller number",
        )
    return None


def construct(
    constructor: SafeConstructor, event: ScalarEvent | ScalarNode, tag: str, kind: str
) -> tuple[Any, tuple[str, str, str] | None]:
    """The value of a YAML-typed scalar (its event, or its node), or None and why it is
    refused: (code, message, hint)."""
    if kind == "integer" and _DECIMAL.fullmatch(event.value):  # as PyYAML reads it, faster
        value: Any = int(event.value) if len(event.value) < 4000 else None
        if value is not None and abs(value) <= MAX_SAFE_INTEGER:
            return value, None
    node = event
    if not isinstance(node, ScalarNode):
        node = ScalarNode(tag, event.value, style=event.style)
    try:
        value = constructor.yaml_constructors[tag](constructor, node)
    except (ConstructorError, ValueError, OverflowError) as exc:
        message = f"cannot read {kind} {event.value!r}: {exc}"
        return None, ("yaml-syntax", message, "quote the value to make it a string")
    problem = number_problem(kind, event.value, value)
    if problem is not None:
        return None, ("invalid-value", *problem)
    return value, None
