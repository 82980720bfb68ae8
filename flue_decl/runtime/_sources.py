"""A call's sources in an artifact (format 3): where each field of it was written, in one
JSON line a call, the fields' paths left out where the call itself gives them.

The paths a call's sources are *expected* at are the document's root, its ``kind`` and
identity, ``allowPlainHttp`` when set, and every mapping key and list item of its payload,
sorted (``order``). The line gives one entry for each, in that order: a line delta and a
column (``3, 9``: three lines below the last entry, column 9); ``"-"`` where that path has
no source (inside a big alias, placed at the alias); ``[n]`` before an entry whose origin
(``origins[n]``: file, layer, overlay) differs from the one before. Sources at paths the
call does not imply follow in full, ``[n, line, column, *path]``. Version 2 wrote every
source in full: for the bench's tree 1.8 times the input, now 0.25 times.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._domain import ALLOW_PLAIN_HTTP, Call, Origin, OriginRow
from .._errors import JsonPath

_NONE = "-"


def order(path: JsonPath) -> list[str]:
    """The sources' order: by path, each step as text."""
    return [str(step) for step in path]


def expected(call: Call) -> list[JsonPath]:
    """The paths ``call``'s sources are expected at, in order."""
    paths: list[JsonPath] = [(), ("kind",), (call.kind.identity,)]
    if call.allow_plain_http:
        paths.append((ALLOW_PLAIN_HTTP,))
    todo: list[tuple[JsonPath, Any]] = [((), call.payload)]
    while todo:  # not recursive: a forged artifact may nest past the stack
        path, value = todo.pop()
        if isinstance(value, Mapping):
            children = [((*path, k), v) for k, v in value.items()]
        elif isinstance(value, list):
            children = [((*path, i), v) for i, v in enumerate(value)]
        else:
            continue
        paths.extend(child for child, _ in children)
        todo.extend(children)
    paths.sort(key=order)
    return paths


def encode(call: Call, origin_ids: dict[tuple[str, int, bool], int]) -> list[Any]:
    """``call``'s line of sources; ``origin_ids`` numbers the origins (and grows)."""
    origins = call.origins
    paths = expected(call)
    out: list[Any] = []
    where, line = -1, 0
    for path in paths:
        source = origins.get(path)
        if source is None:
            out.append(_NONE)
            continue
        number = _number(source, origin_ids)
        if number != where:
            out.append([number])
            where = number
        out += (source.place.line - line, source.place.column)
        line = source.place.line
    implied = set(paths)
    for path in sorted((p for p in origins if p not in implied), key=order):
        source = origins[path]
        out.append([_number(source, origin_ids), source.place.line, source.place.column, *path])
    return out


def _number(source: Origin, origin_ids: dict[tuple[str, int, bool], int]) -> int:
    return origin_ids.setdefault(
        (source.place.file or "", source.layer, source.overlay), len(origin_ids)
    )


def decode(
    tokens: list[Any], call: Call, table: tuple[Any, ...]
) -> dict[JsonPath, OriginRow]:
    """The rows of a line of sources (``encode``'s), by path in order. Raises ValueError,
    TypeError or IndexError for a line of another shape."""
    rows: dict[JsonPath, OriginRow] = {}
    at, where, line = 0, None, 0
    for path in expected(call):
        token = tokens[at]
        if isinstance(token, list):
            (where,) = token
            at += 1
            token = tokens[at]
        at += 1
        if token == _NONE:
            continue
        column = tokens[at]
        at += 1
        if type(token) is not int or type(column) is not int:
            raise TypeError("a source's line and column are integers")
        line += token
        file, layer, root, overlay = table[where]  # type: ignore[index]
        rows[path] = (file, line, column, layer, root, overlay)
    if at == len(tokens):
        return rows
    for number, line, column, *path in tokens[at:]:
        if type(line) is not int or type(column) is not int or not path:
            raise TypeError("a source is [origin, line, column, *path]")
        file, layer, root, overlay = table[number]
        rows[tuple(path)] = (file, line, column, layer, root, overlay)
    return dict(sorted(rows.items(), key=lambda row: order(row[0])))
