"""A parsed YAML document, and a parsed file: what the parser gives every later stage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._discover import SourceFile
from .._errors import Diagnostic, JsonPath, Place, Spot
from ._suppress import Suppression


@dataclass(frozen=True, slots=True)
class Document:
    """One non-empty YAML document, with the place of every value and key."""

    file: str
    layer: int
    index: int  # 0-based position among the file's documents
    start: Place
    data: Any
    places: Mapping[JsonPath, Spot]
    key_places: Mapping[JsonPath, Spot]
    # Scalars whose YAML typing made them something other than a string,
    # with their source text: lets later stages say "quote it".
    typed_scalars: Mapping[JsonPath, tuple[str, str]] = field(default_factory=dict)
    # Paths whose value the parser refused (and reported): later stages stay quiet there.
    broken: frozenset[JsonPath] = frozenset()

    def place(self, path: JsonPath) -> Place:
        """The closest known place for ``path``: the node itself, else its nearest parent."""
        while True:
            if path in self.places:
                return Place(*self.places[path])
            if not path:
                return self.start
            path = path[:-1]

    def key_place(self, path: JsonPath) -> Place:
        spot = self.key_places.get(path)
        return Place(*spot) if spot else self.place(path)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    file: SourceFile
    documents: tuple[Document, ...]
    diagnostics: tuple[Diagnostic, ...]
    sha256: str | None = None  # of the bytes read; None when unreadable
    suppressions: tuple[Suppression, ...] = ()  # its `# flue-decl: ignore[...]` comments
