"""A mapping's places table, and the tables of a document or entity by path (see
``_places``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .._errors import JsonPath

# A mapping's table: a dict, or for a few entries (key, entry, key, entry, ...): a dict
# costs 200 bytes however few its entries, and a dense file has 100,000 mappings of one.
Table = dict[str, int] | tuple[Any, ...]
SMALL = 8  # entries a tuple table may have


def get(table: Table | None, key: str) -> int:
    """The entry of ``key`` in ``table``; 0 when it has none."""
    if table is None:
        return 0
    if isinstance(table, dict):
        return table.get(key, 0)
    for i in range(0, len(table), 2):
        if table[i] == key:
            return int(table[i + 1])
    return 0


def pairs(table: Table) -> Iterable[tuple[str, int]]:
    return table.items() if isinstance(table, dict) else zip(table[::2], table[1::2], strict=True)


class Tables:
    """Mappings' tables by the mapping's path, kept by its parent's path and its last key:
    a path tuple for each table would cost 56 bytes and more (8 a level) a mapping, most
    of what a mapping of one entry costs; this way one is kept for each parent."""

    __slots__ = ("_mine", "by_parent", "top")

    def __init__(self) -> None:
        self.top: Table | None = None  # the document's own mapping
        self.by_parent: dict[JsonPath, dict[Any, Table]] = {}
        self._mine: set[JsonPath] | None = None  # a copy's: the parents whose dict it owns

    def get(self, path: JsonPath) -> Table | None:
        if not path:
            return self.top
        inner = self.by_parent.get(path[:-1])
        return None if inner is None else inner.get(path[-1])

    def __contains__(self, path: JsonPath) -> bool:
        return self.get(path) is not None

    def _inner(self, parent: JsonPath) -> dict[Any, Table]:
        """``parent``'s dict of tables, to be changed: a copy's own."""
        inner = self.by_parent.get(parent)
        if inner is None:
            inner = self.by_parent[parent] = {}
        elif self._mine is None:
            return inner
        elif parent not in self._mine:
            inner = self.by_parent[parent] = dict(inner)
        else:
            return inner
        if self._mine is not None:
            self._mine.add(parent)
        return inner

    def __setitem__(self, path: JsonPath, table: Table) -> None:
        if not path:
            self.top = table
        else:
            self._inner(path[:-1])[path[-1]] = table

    def __delitem__(self, path: JsonPath) -> None:
        if not path:
            self.top = None
            return
        inner = self._inner(path[:-1])
        del inner[path[-1]]
        if not inner:
            del self.by_parent[path[:-1]]
            if self._mine is not None:
                self._mine.discard(path[:-1])

    def __bool__(self) -> bool:
        return self.top is not None or bool(self.by_parent)

    def items(self) -> Iterator[tuple[JsonPath, Table]]:
        if self.top is not None:
            yield (), self.top
        for parent, inner in self.by_parent.items():
            for last, table in inner.items():
                yield (*parent, last), table

    def values(self) -> Iterator[Table]:
        return (table for _, table in self.items())

    def copy(self) -> Tables:
        """A copy whose changes leave this one as it is: what it shares (the tables, and
        each parent's dict of them until the copy changes it) is never changed in place."""
        copy = Tables()
        copy.top = self.top
        copy.by_parent = dict(self.by_parent)
        copy._mine = set()
        return copy
