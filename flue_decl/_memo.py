"""A bounded memo for pure functions of one hashable argument, kept in a plain dict.

Why not ``functools.lru_cache``: its wrapper is an object the cyclic collector traverses
entry by entry through a linked list, and a service's full collections paid for every
cached template and URL (about 5 ms of a 1,000-file tree's pause). A plain dict whose
keys are strings and whose values are strings, ``None`` or plain tuples of them is
untracked by the next full collection, and costs nothing after. When full, the table is
cleared and starts again: these functions are cheap to run again, and a service asks for
the same few values.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

_MISSING: Any = object()
# Entries of the template and URL memos: a 10,000-file tree has about 30,000 distinct
# templates and URLs, and a memo smaller than the tree is cleared at every reload, which
# then parses them all again (at 5,000 files, three more full collections per reload).
TREE_SIZED = 1 << 16


class Memo(Generic[K, R]):
    """``function`` with its results kept, at most ``maxsize`` of them (``__wrapped__``:
    the function itself, for its docstring)."""

    __slots__ = ("__wrapped__", "_function", "_maxsize", "_table")

    def __init__(self, function: Callable[[K], R], maxsize: int) -> None:
        self._function, self._maxsize = function, maxsize
        self._table: dict[K, R] = {}
        self.__wrapped__ = function

    def __call__(self, key: K) -> R:
        value = self._table.get(key, _MISSING)
        if value is _MISSING:
            value = self._function(key)
            if len(self._table) >= self._maxsize:
                self._table.clear()
            self._table[key] = value
        return value  # type: ignore[no-any-return]

    def cache_clear(self) -> None:
        self._table.clear()


def memo(maxsize: int) -> Callable[[Callable[[K], R]], Memo[K, R]]:
    """Decorator: :class:`Memo` of the function, ``maxsize`` results at most."""

    def wrap(function: Callable[[K], R]) -> Memo[K, R]:
        return Memo(function, maxsize)

    return wrap
