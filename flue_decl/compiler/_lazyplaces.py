"""A fast-read document's places (``_fastparse``), made when first read by walking its
file's text again: most documents of a valid tree are never asked for a place, and a
tree's places held at once cost more than its values.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

from ._budget import TreeBudget
from ._document import Document
from ._frames import _NOTHING_BROKEN
from ._places import _MAKING, LatePlaces, Places, Text, place_at

# A file's documents read again with their places made (``_fastparse``'s walk).
Parts = list[tuple[int, int, Any, list[Text]]]  # a document's index, root place, value, texts
Walk = Callable[["Source", TreeBudget], list[Document]]


class Source:
    """A fast-read file's text, to walk again for its documents' places whenever they are
    made (first read, or read again after ``forget``); called under ``LatePlaces``' lock.
    A walk makes every document's places, the others' kept until asked for (a reader
    going through every call after the artifact's writer forgot them walks each file
    once, not once per document)."""

    def __init__(self, text: str, file: str, layer: int, tree: TreeBudget, walk: Walk) -> None:
        self.text, self.walk = text, walk
        self.file, self.layer = file, layer
        self.strings, self.numbers = tree.strings, tree.numbers  # the keys' objects again
        self.found: dict[int, Places] = {}  # made by the last walk, not given out yet

    def places(self, index: int) -> Places:
        """Document ``index``'s places."""
        if index in self.found:
            return self.found.pop(index)
        unbounded = TreeBudget(0)
        unbounded.limit = sys.maxsize  # charged on the first walk
        unbounded.strings, unbounded.numbers = self.strings, self.numbers
        made = {document.index: document.places for document in self.walk(self, unbounded)}
        found = made.pop(index)
        self.found = made
        return found


class _LazyPlaces(LatePlaces):
    """A fast-read document's places, made when first read (see ``LatePlaces``) by
    walking its file again; its typed texts are known from the first walk."""

    __slots__ = ("_index", "_source")

    def __init__(self, file: str, root: int, texts: list[Text], source: Source, index: int):
        self.files, self.root, self.texts = (file,), root, texts
        self._source, self._index = source, index

    def made(self) -> Places:
        made = self._source.places(self._index)
        assert made.texts == self.texts
        return made

    def forget(self) -> None:
        with _MAKING:  # as LatePlaces makes them
            for slot in ("maps", "seqs", "seq_texts", "_owned", "_numbers"):  # texts: known
                with contextlib.suppress(AttributeError):
                    delattr(self, slot)


def lazy_document(source: Source, index: int, root: int, value: Any, texts: list[Text]) -> Document:
    """Document ``index`` of ``source``'s file, whose root node is at ``root``."""
    lazy = _LazyPlaces(source.file, root, texts, source, index)
    start = place_at(source.file, root)
    return Document(source.file, source.layer, index, start, value, lazy, _NOTHING_BROKEN)


def rebuilt(source: Source, parts: Parts) -> list[Document]:
    """The documents another process read from ``source``'s text (``_parallel``), from
    their :data:`Parts`: as that read made them."""
    return [lazy_document(source, *part) for part in parts]
