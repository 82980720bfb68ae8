"""The syntax tree of the template language, as plain tuples.

A template is a tuple of nodes; a node is a tuple whose first item says what it is:

    (TEXT, value)                        literal text, or a quoted string
    (REF, name)                          env.NAME / env['NAME']; secret.NAME as SECRET + NAME
    (DEFINED, name, negated)             `name is [not] defined`, only as an inline if's test
    (FILTERED, base, ((filter, args, replace_empty), ...))   args: a tuple of nodes
    (CONCAT, (part, ...))                a ~ b ~ ...
    (IF, condition, then, otherwise)     then if condition else otherwise

Plain tuples of strings, booleans and tuples, because parses are cached for the life of a
service: CPython's cyclic collector stops tracking such a tuple, so a cache of thousands of
templates adds nothing to a full collection's pause.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NoReturn

from ._core import SECRET, TemplateProblem

TEXT, REF, DEFINED, FILTERED, CONCAT, IF = "text", "ref", "defined", "filtered", "concat", "if"
DEFAULT = "default"

Node = tuple[Any, ...]
Template = tuple[Node, ...]

SECRET_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")
FILTERS = (DEFAULT, "d", "lower", "upper", "trim", "replace", "urlencode")
FILTER_LIST = "default (d), lower, upper, trim, replace, urlencode"
MAX_FILTERS = 16  # per chain: `| lower | lower | ...` has no use past a few
ALLOWED_SPELLING = "{{ env.NAME }}, {{ env['NAME'] | default('value') }}"


def secret_ref(name: str) -> str:
    """How a reference to the secret file ``name`` is named in the tree and looked up."""
    return SECRET + name


class TemplateRefused(Exception):
    def __init__(self, problem: TemplateProblem) -> None:
        self.problem = problem


def refuse(message: str, hint: str | None = None, code: str = "template-not-allowed") -> NoReturn:
    raise TemplateRefused(TemplateProblem(code, message, hint))


def each_node(template: Template) -> Iterator[Node]:
    """Every node of ``template``, outermost first, left to right."""
    stack = list(reversed(template))
    while stack:
        node = stack.pop()
        yield node
        tag = node[0]
        if tag == FILTERED:
            children = [node[1]] + [arg for _, args, _ in node[2] for arg in args]
        elif tag == CONCAT:
            children = list(node[1])
        elif tag == IF:
            children = list(node[1:])
        else:
            continue
        stack.extend(reversed(children))
