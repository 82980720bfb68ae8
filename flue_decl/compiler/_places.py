"""Where every node of a document or an entity was written, in a few bytes a node.

A dense file is mostly places: kept as a ``(file, line, column)`` tuple for each value and
each key, keyed by a path tuple, they cost 200 bytes a node, 30 times the text. Here:

- a place is one int, ``line << 32 | column`` (1-based; 0: none), a :data:`Pos`;
- a mapping's entry is one int too: its value's place, its key's, the source text of a
  YAML-typed scalar where one is kept (an index into :attr:`Places.texts`), and ``who``
  wrote it (an index into :attr:`Places.files`; of an entity: its document's), kept in a
  table per mapping, keyed by the key string the data already holds (the tables kept by
  their parent's path and last key: ``_tables``);
- a sequence's items are an array of places (8 bytes an item), with an array of text
  indexes where any is typed, written by whoever wrote the nearest mapping entry above
  them: an overlay replaces a list whole.

A file is read only up to ``MAX_PLACEABLE`` bytes, so lines and columns fit their 32 bits.
"""

from __future__ import annotations

import itertools
import threading
from array import array
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._errors import JsonPath, Place, Spot
from ._tables import SMALL, Tables, get, pairs

Pos = int  # line << 32 | column of one place; what the event pass logs
_W = 32
_MASK = (1 << _W) - 1
_POS = (1 << 2 * _W) - 1  # one place: line and column
_TEXT = 4 * _W  # where an entry's text index starts; then who, from _WHO
_WHO = 5 * _W
_PLACES = (1 << _TEXT) - 1  # an entry's value and key places
MAX_PLACEABLE = 1 << 31  # bytes: whatever max-file-bytes says, a larger file is refused
Text = tuple[str, str]  # (kind, source text) of a YAML-typed scalar (see _scalars)


def pos(line: int, column: int) -> Pos:
    return line << _W | column


def place_at(file: str, at: Pos) -> Place:
    return Place(file, at >> _W, at & _MASK)


def keyed(entry: int, key: Pos) -> int:
    """``entry`` with its key's place set to ``key``."""
    return entry & ~(_POS << 2 * _W) | key << 2 * _W


def _texted(entry: int, text: int) -> int:
    return entry & ~(_MASK << _TEXT) | text << _TEXT


# Shared by every Places that has none: never changed (only a copy's own tables are).
_NO_MAPS = Tables()
_NO_SEQS: dict[JsonPath, array[int]] = {}
_NO_TEXTS: list[Text] = []
_NONE_OWNED: set[JsonPath] = set()


class Places:
    """The places of one document or entity (see the module docstring). An entity's
    builder changes it (:meth:`take`, :meth:`drop`) before anything reads it."""

    __slots__ = ("_numbers", "_owned", "files", "maps", "root", "seq_texts", "seqs", "texts")

    def __init__(
        self,
        files: tuple[str, ...],
        root: Pos,
        maps: Tables,
        seqs: dict[JsonPath, array[int]],
        *,
        texts: list[Text],
        seq_texts: dict[JsonPath, array[int]],
    ) -> None:
        self.files, self.root, self.maps, self.seqs = files, root, maps, seqs
        self.texts, self.seq_texts = texts, seq_texts  # text i is texts[i - 1]; 0: none
        # Tables this copy may change (copy on write); only an entity's copy has any. A
        # document of one scalar is 6 bytes: its places must not cost a set and 3 dicts.
        self._owned: set[JsonPath] = _NONE_OWNED
        self._numbers: dict[Text, int] | None = None  # texts' numbers, while merging

    @classmethod
    def of(
        cls,
        file: str,
        values: Iterable[tuple[JsonPath, Pos]],
        keys: Iterable[tuple[JsonPath, Pos]],
        typed: Iterable[tuple[JsonPath, Text]],
    ) -> Places:
        """From the event pass's logs: (path, place) of every value, of every key, and
        (path, text) of the typed scalars whose text is kept."""
        root = 0
        maps: dict[JsonPath, dict[str, int]] = {}
        seqs: dict[JsonPath, array[int]] = {}
        texts: list[Text] = []
        seq_texts: dict[JsonPath, array[int]] = {}
        ids: dict[Text, int] = {}
        for path, at in values:
            if not path:
                root = at
            elif isinstance(last := path[-1], str):
                parent = path[:-1]
                table = maps.get(parent)
                if table is None:
                    table = maps[parent] = {}
                table[last] = at
            else:
                parent = path[:-1]
                items = seqs.get(parent)
                if items is None:
                    items = seqs[parent] = array("Q")
                if last >= len(items):
                    items.extend(itertools.repeat(0, last + 1 - len(items)))
                items[last] = at
        for path, at in keys:
            key = path[-1]
            assert isinstance(key, str)  # keys are strings (the event pass refuses others)
            table = maps.setdefault(path[:-1], {})
            table[key] = keyed(table.get(key, 0), at)
        for path, text in typed:
            if (number := ids.get(text)) is None:
                texts.append(text)
                number = ids[text] = len(texts)
            if not path:
                continue  # a document that is one scalar: no stage asks for its text
            if isinstance(last := path[-1], str):
                table = maps.setdefault(path[:-1], {})
                table[last] = _texted(table.get(last, 0), number)
            else:
                marks = seq_texts.get(path[:-1])
                if marks is None:
                    size = len(seqs.get(path[:-1], ()))
                    marks = seq_texts[path[:-1]] = array("I", itertools.repeat(0, size))
                if 0 <= last < len(marks):
                    marks[last] = number
        tables = Tables()
        for parent, table in maps.items():
            tables[parent] = (
                tuple(itertools.chain.from_iterable(table.items()))
                if len(table) <= SMALL
                else table
            )
        return cls(
            (file,),
            root,
            tables or _NO_MAPS,
            seqs or _NO_SEQS,
            texts=texts or _NO_TEXTS,
            seq_texts=seq_texts or _NO_SEQS,
        )

    # -- reading ------------------------------------------------------------------------

    def spot(self, path: JsonPath) -> Spot | None:
        """Where the value at ``path`` was written, if it was."""
        if not path:
            return self._spot(0, self.root) if self.root else None
        last = path[-1]
        if isinstance(last, str):
            found = get(self.maps.get(path[:-1]), last)
            return self._spot(found >> _WHO, found & _POS) if found & _POS else None
        items = self.seqs.get(path[:-1])
        if items is None or not 0 <= last < len(items) or not items[last]:
            return None
        return self._spot(self._who(path), items[last])

    def key_spot(self, path: JsonPath) -> Spot | None:
        """Where the key of the mapping entry at ``path`` was written, if it was."""
        if not path or not isinstance(path[-1], str):
            return None
        found = get(self.maps.get(path[:-1]), path[-1])
        key = found >> 2 * _W & _POS
        return self._spot(found >> _WHO, key) if key else None

    def text(self, path: JsonPath) -> Text | None:
        """The source text of the YAML-typed scalar at ``path``, where one is kept."""
        if not path:
            return None
        last = path[-1]
        if isinstance(last, str):
            number = get(self.maps.get(path[:-1]), last) >> _TEXT & _MASK
        else:
            marks = self.seq_texts.get(path[:-1])
            number = marks[last] if marks is not None and 0 <= last < len(marks) else 0
        return self.texts[number - 1] if number else None

    def items(self) -> Iterator[tuple[JsonPath, Spot, int]]:
        """Every value's place, parents first, in the order written: (path, place, who)."""
        if self.root:
            yield (), self._spot(0, self.root), 0
        for path, at, _, who in self._walk((), 0):
            if at:
                yield path, self._spot(who, at), who

    def typed(self) -> Iterator[tuple[JsonPath, Text]]:
        """Every kept text of a typed scalar, in the order written: (path, text)."""
        if not self.texts:
            return  # most documents: nothing to walk the tree for
        for path, _, number, _ in self._walk((), 0):
            if number:
                yield path, self.texts[number - 1]

    def _walk(self, path: JsonPath, who: int) -> Iterator[tuple[JsonPath, Pos, int, int]]:
        """(path, place, text, who) of every node below ``path``, parents first."""
        table = self.maps.get(path)
        for key, found in pairs(table) if table is not None else ():
            child, by = (*path, key), found >> _WHO
            yield child, found & _POS, found >> _TEXT & _MASK, by
            yield from self._walk(child, by)
        marks = self.seq_texts.get(path)
        for index, at in enumerate(self.seqs.get(path, ())):
            child = (*path, index)
            yield child, at, marks[index] if marks is not None else 0, who
            yield from self._walk(child, who)

    def lines(self) -> Iterator[int]:
        """The line of every place, values and keys."""
        yield self.root >> _W
        for table in self.maps.values():
            for _, found in pairs(table):
                yield found >> _W & _MASK
                yield found >> 3 * _W & _MASK
        for items in self.seqs.values():
            yield from (at >> _W for at in items)

    def _who(self, path: JsonPath) -> int:
        """Who wrote the sequence item at ``path``: who wrote the entry above it."""
        if len(self.files) == 1:
            return 0
        for end in range(len(path) - 1, 0, -1):
            if isinstance(key := path[end - 1], str):
                return get(self.maps.get(path[: end - 1]), key) >> _WHO
        return 0

    def _spot(self, who: int, at: Pos) -> Spot:
        return (self.files[who], at >> _W, at & _MASK)

    # -- an entity's merge --------------------------------------------------------------

    def copy(self, files: tuple[str, ...]) -> Places:
        """A copy naming ``files``, whose tables are copied when first changed."""
        copy = Places(
            files,
            self.root,
            self.maps.copy(),
            dict(self.seqs),
            texts=list(self.texts),
            seq_texts=dict(self.seq_texts),
        )
        copy._owned = set()
        return copy

    def take(self, source: Places, path: JsonPath, who: int, *, subtree: bool) -> None:
        """The mapping entry at ``path`` (and with ``subtree`` all below it) as ``source``,
        file ``who`` of this one, has it."""
        assert self._owned is not _NONE_OWNED, "only a copy is changed"
        parent, key = path[:-1], path[-1]
        assert isinstance(key, str)
        table = self._table(parent)
        found = get(source.maps.get(parent), key)
        if found:
            table[key] = self._adopt(found, source, who)
        # else: the source placed it at a parent (a big alias): the entry keeps its own
        # place, and so its file; a place and its file must never come from two documents
        if subtree:
            for inner in source.below(path):
                entries = source.maps.get(inner)
                if entries is not None:
                    self.maps[inner] = {k: self._adopt(e, source, who) for k, e in pairs(entries)}
                    self._owned.add(inner)
                if inner in source.seqs:
                    self.seqs[inner] = source.seqs[inner]
                if inner in source.seq_texts:
                    marks = source.seq_texts[inner]
                    self.seq_texts[inner] = array("I", (self._number(source, m) for m in marks))

    def below(self, path: JsonPath) -> list[JsonPath]:
        """The paths at and below ``path`` that have a table or a sequence's places, found
        by walking down from it: a dense overlay must not scan every table for each key it
        sets (10,000 models overlaid took 26 s)."""
        found: list[JsonPath] = []
        todo = [path]
        while todo:
            at = todo.pop()
            table, items = self.maps.get(at), self.seqs.get(at)
            if table is None and items is None:
                continue
            found.append(at)
            if table is not None:
                todo.extend((*at, key) for key, _ in pairs(table))
            if items is not None:
                todo.extend((*at, index) for index in range(len(items)))
        return found

    def _adopt(self, entry: int, source: Places, who: int) -> int:
        """``entry`` of ``source`` as an entry of this one, written by ``who``."""
        number = self._number(source, entry >> _TEXT & _MASK)
        return who << _WHO | number << _TEXT | entry & _PLACES

    def _number(self, source: Places, number: int) -> int:
        """Text ``number`` of ``source`` as a number of this one's (0: none)."""
        if not number or source is self:
            return number
        if self._numbers is None:
            self._numbers = {text: i + 1 for i, text in enumerate(self.texts)}
        text = source.texts[number - 1]
        if (mine := self._numbers.get(text)) is None:
            self.texts.append(text)
            mine = self._numbers[text] = len(self.texts)
        return mine

    def drop(self, path: JsonPath) -> None:
        """Forget the mapping entry at ``path`` and everything below it."""
        assert self._owned is not _NONE_OWNED, "only a copy is changed"
        parent, key = path[:-1], path[-1]
        assert isinstance(key, str)
        if get(self.maps.get(parent), key):
            del self._table(parent)[key]
        for inner in self.below(path):
            for tables in (self.maps, self.seqs, self.seq_texts):
                if inner in tables:
                    del tables[inner]
            self._owned.discard(inner)  # a table made again later is copied afresh

    def _table(self, parent: JsonPath) -> dict[str, int]:
        if parent not in self._owned:
            table = self.maps.get(parent)
            self.maps[parent] = {} if table is None else dict(pairs(table))
            self._owned.add(parent)
        table = self.maps.get(parent)
        assert isinstance(table, dict)
        return table


_LATE = ("maps", "seqs", "seq_texts", "texts", "_owned", "_numbers")
_MAKING = threading.RLock()  # one for all: made and forgotten under it; an entity makes its base


class LatePlaces(Places):
    """Places made when first read: validate of a valid tree reads few, and they were a
    third of what it held. ``files`` and ``root`` are set; the rest is left unset, so
    that reading it calls ``__getattr__`` (Python calls it only for an unset slot), which
    takes it from :meth:`made`. Subclasses: ``_fastparse`` (a file walked again) and
    ``_layer`` (an overlay's merge replayed)."""

    __slots__ = ()

    def made(self) -> Places:
        raise NotImplementedError

    def forget(self) -> None:
        """Unset what :meth:`made` gave, made again when next read (a writer reading each
        document's places once need not hold them all); kept unless a subclass can."""

    def __getattr__(self, name: str) -> Any:
        if name not in _LATE:
            raise AttributeError(name)
        with _MAKING:  # documents and entities are read from many threads
            try:
                return object.__getattribute__(self, name)  # made while this one waited
            except AttributeError:
                made = self.made()
                for slot in _LATE:
                    setattr(self, slot, getattr(made, slot))
        return getattr(self, name)


class Typed(Mapping[JsonPath, Text]):
    """The kept texts of a :class:`Places`' typed scalars, as the mapping the schema stage
    and the lints read: path -> (kind, source text)."""

    __slots__ = ("_places",)

    def __init__(self, places: Places) -> None:
        self._places = places

    def __getitem__(self, path: JsonPath) -> Text:
        text = self._places.text(path)
        if text is None:
            raise KeyError(path)
        return text

    def __iter__(self) -> Iterator[JsonPath]:
        return (path for path, _ in self._places.typed())

    def __len__(self) -> int:
        return sum(1 for _ in self._places.typed())
