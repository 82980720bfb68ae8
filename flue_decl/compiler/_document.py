"""A parsed YAML document, and a parsed file: what the parser gives every later stage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._discover import SourceFile
from .._errors import Diagnostic, JsonPath, Place
from ._places import Places, Typed
from ._suppress import Suppression


@dataclass(frozen=True, slots=True)
class Document:
    """One non-empty YAML document, with the place of every value and key."""

    file: str
    layer: int
    index: int  # 0-based position among the file's documents
    start: Place
    data: Any
    places: Places  # of every value and key, all in ``file``
    # Paths whose value the parser refused (and reported): later stages stay quiet there.
    broken: frozenset[JsonPath] = frozenset()

    @property
    def typed_scalars(self) -> Mapping[JsonPath, tuple[str, str]]:
        """Scalars whose YAML typing made them something other than a string, with their
        source text where the value does not give it (``_scalars.implicit_text``): lets
        later stages say "quote it"."""
        return Typed(self.places)

    def place(self, path: JsonPath) -> Place:
        """The closest known place for ``path``: the node itself, else its nearest parent."""
        return nearest(self.places, path, self.start)

    def key_place(self, path: JsonPath) -> Place:
        spot = self.places.key_spot(path)
        return Place(*spot) if spot else self.place(path)


def nearest(places: Places, path: JsonPath, start: Place) -> Place:
    """The place of ``path``, else of its nearest parent that has one, else ``start``."""
    while True:
        spot = places.spot(path)
        if spot is not None:
            return Place(*spot)
        if not path:
            return start
        path = path[:-1]


@dataclass(frozen=True, slots=True)
class ParsedFile:
    file: SourceFile
    documents: tuple[Document, ...]
    diagnostics: tuple[Diagnostic, ...]
    sha256: str | None = None  # of the bytes read; None when unreadable
    suppressions: tuple[Suppression, ...] = ()  # its `# flue-decl: ignore[...]` comments
