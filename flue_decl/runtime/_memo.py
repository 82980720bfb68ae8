"""Resolved models remembered by specifier, shared by a service's request threads."""

from __future__ import annotations

import _thread  # a lock without importing threading at a service start
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

# Services resolve the same few specifiers on every request; the bounds keep a caller that
# passes user input (`?model=...`) from growing the memo, in entries and in the characters
# of the specifiers (a model holds its ID twice, so models grow with them).
MEMO_ENTRIES = 1024
MEMO_CHARS = 64 << 20


class Memo(Generic[V]):
    """Values by key, oldest out first past ``entries`` keys or ``chars`` characters of
    keys. Reads take no lock; writes hold one. :meth:`invalidate` after the state the
    values were computed from changes: a value computed before that (:meth:`version` taken
    before computing) is never stored after it, so nothing older than the last change is
    served once the change has returned.

    :attr:`get` is the values' own ``dict.get``, not a method around it: a remembered model
    is served without a Python frame of this class (a third of ``resolve_model``'s time)."""

    __slots__ = ("_chars", "_entries", "_limit", "_lock", "_values", "get", "version")
    get: Callable[[str], V | None]  # one dict lookup: atomic, whatever writers do

    def __init__(self, entries: int = MEMO_ENTRIES, chars: int = MEMO_CHARS) -> None:
        self._lock = _thread.allocate_lock()
        self._values: dict[str, V] = {}
        self.get = self._values.get
        self._entries = entries
        self._limit = chars
        self._chars = 0
        self.version = 0

    def put(self, key: str, value: V, version: int) -> None:
        """Remember ``value``, computed from the state of ``version``, unless the state has
        changed since (or ``key`` alone is over the bound)."""
        if len(key) > self._limit:
            return
        with self._lock:
            if version != self.version or key in self._values:
                return
            self._values[key] = value
            self._chars += len(key)
            while len(self._values) > self._entries or self._chars > self._limit:
                oldest = next(iter(self._values))
                del self._values[oldest]
                self._chars -= len(oldest)

    def invalidate(self) -> None:
        """Forget everything, and refuse what was computed before."""
        with self._lock:
            self.version += 1
            values: dict[str, V] = {}
            # Readers switch to the new values before writers do: a reader between the
            # two reads the old values, as before the change began.
            self.get = values.get
            self._values = values
            self._chars = 0

    def __len__(self) -> int:
        return len(self._values)
