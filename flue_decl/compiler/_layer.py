"""Documents keyed by (kind, identity) and merged into entities.

A second document with the same key is an error naming both places unless it
says ``overlay: true``; an overlay merges over what came before: maps merge
key by key, scalars and lists replace, ``null`` removes a key. Every path of
the merged value keeps the place (and so the file and layer) that set it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._domain import KINDS
from .._errors import Diagnostic, JsonPath, Place, did_you_mean
from ._document import nearest
from ._parse import Document
from ._places import LatePlaces, Places, Typed
from ._schema import Located


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str
    key: str
    order: int  # position of its first document in input order
    data: Mapping[str, Any]
    places: Places  # files: one per document; who set a path: its document's index
    documents: tuple[Document, ...]  # the base first, then its overlays in order
    removed: Mapping[JsonPath, Place]  # keys an overlay removed with null, and where
    broken: frozenset[JsonPath]  # paths the parser already reported

    def place(self, path: JsonPath) -> Place:
        return nearest(self.places, path, self.documents[0].start)

    def key_place(self, path: JsonPath) -> Place:
        spot = self.places.key_spot(path)
        return Place(*spot) if spot else self.place(path)

    @property
    def typed_scalars(self) -> Mapping[JsonPath, tuple[str, str]]:
        return Typed(self.places)

    def located(self) -> Located:
        return Located(
            self.data, self.place, self.key_place, self.typed_scalars, self.removed, self.broken
        )


class _Removed(Mapping[JsonPath, Place]):
    """The keys overlays removed with null, and where: each place found when asked for
    (the overlay's places are made then; most are never asked for)."""

    __slots__ = ("by",)

    def __init__(self) -> None:
        self.by: dict[JsonPath, Document] = {}  # the overlay that removed it

    def __getitem__(self, path: JsonPath) -> Place:
        return self.by[path].key_place(path)

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self.by)

    def __len__(self) -> int:
        return len(self.by)


class _Merged(LatePlaces):
    """An overlaid entity's places: a copy of its base's with its overlays' entries taken
    and dropped, done when first read (see ``LatePlaces``): until then, neither the base's
    places nor the overlays' are made."""

    __slots__ = ("_base", "_steps", "_texted")

    def __init__(self, base: Places, files: tuple[str, ...]) -> None:
        self.files, self.root = files, base.root
        self._base = base
        self._steps: list[tuple[Places | None, JsonPath, int, bool]] | None = []
        self._texted = bool(base.texts)  # whether any document of it has a typed text

    def take(self, source: Places, path: JsonPath, who: int, *, subtree: bool) -> None:
        if self._steps is None:
            super().take(source, path, who, subtree=subtree)
            return
        self._steps.append((source, path, who, subtree))
        self._texted = self._texted or bool(source.texts)

    def drop(self, path: JsonPath) -> None:
        if self._steps is None:
            super().drop(path)
            return
        self._steps.append((None, path, 0, False))

    def made(self) -> Places:
        assert self._steps is not None
        made = self._base.copy(self._base.files)
        for source, path, who, subtree in self._steps:
            if source is None:
                made.drop(path)
            else:
                made.take(source, path, who, subtree=subtree)
        made.files = self.files
        self._steps = None
        return made

    def __getattr__(self, name: str) -> Any:
        if name == "texts" and not self._texted:
            self.texts = []  # none to take: the lints ask every entity, most have none
            return self.texts
        return super().__getattr__(name)


@dataclass(frozen=True, slots=True)
class Layering:
    entities: tuple[Entity, ...]
    # Documents that could not be keyed (no valid id); still schema-checked alone.
    unkeyed: tuple[tuple[str, Document], ...]
    diagnostics: tuple[Diagnostic, ...]
    # A second definition of an entity (`duplicate-definition`), as an entity of its own:
    # not part of the tree, but checked in full, so the duplicate hides nothing in it.
    duplicates: tuple[Entity, ...] = ()


class _EntityBuilder:
    def __init__(self, doc: Document, kind: str, key: str, order: int) -> None:
        self.kind, self.key, self.order = kind, key, order
        self.documents = [doc]
        # The base is taken as written: a null in it is the schema's to report;
        # only in an overlay does null mean "remove". Most entities are one document:
        # its tables are shared, read-only, and copied only when an overlay arrives.
        self.data: dict[str, Any] = doc.data  # the document's own until an overlay arrives
        if "overlay" in doc.data:
            self.data = {k: v for k, v in doc.data.items() if k != "overlay"}
        self.places = doc.places
        self.removed = _Removed()
        self.broken: set[JsonPath] = set(doc.broken)
        self.shared = True
        # The mappings of ``data`` an overlay may change in place, by id (each held here,
        # so no id is reused): the rest are the documents', copied on the way down to a
        # change, so an overlay costs what it changes, not a copy of its base (nor, for an
        # entity without one, even its top mapping).
        self._mine: dict[int, dict[str, Any]] | None = None

    def _own(self) -> Places:
        if self.shared:
            base = self.documents[0]
            self.places = _Merged(base.places, (base.file,))
            self.shared = False
        return self.places

    def overlay(self, doc: Document) -> None:
        self._own()
        if self._mine is None:
            self.data = {k: v for k, v in self.data.items() if k != "overlay"}
            self._mine = {id(self.data): self.data}
        self.documents.append(doc)
        self.broken |= doc.broken
        source = {k: v for k, v in doc.data.items() if k != "overlay"}
        self._merge(self.data, source, (), doc, len(self.documents) - 1)

    def _merge(
        self,
        target: dict[str, Any],
        source: Mapping[str, Any],
        path: JsonPath,
        doc: Document,
        who: int,
    ) -> None:
        for key, value in source.items():
            child = (*path, key)
            if value is None:
                target.pop(key, None)
                self._forget(child)
                self.removed.by[child] = doc
                continue
            self.removed.by.pop(child, None)
            current = target.get(key)
            if isinstance(value, dict) and isinstance(current, dict):
                assert self._mine is not None  # made by overlay()
                if id(current) not in self._mine:
                    current = target[key] = dict(current)
                    self._mine[id(current)] = current
                self._take(child, doc, who, subtree=False)
                self._merge(current, value, child, doc, who)
            else:
                self._forget(child)
                target[key] = _copy(value)
                self._take(child, doc, who, subtree=True)

    def _take(self, path: JsonPath, doc: Document, who: int, *, subtree: bool) -> None:
        """``path`` (and with ``subtree`` all below it) as ``doc``, document ``who``, set it."""
        self._own().take(doc.places, path, who, subtree=subtree)

    def _forget(self, path: JsonPath) -> None:
        self._own().drop(path)

    def build(self) -> Entity:
        if not self.shared:  # who set a path: its document's index
            self.places.files = tuple(doc.file for doc in self.documents)
        return Entity(
            self.kind,
            self.key,
            self.order,
            self.data,
            self.places,
            tuple(self.documents),
            self.removed,
            frozenset(self.broken),
        )


def _copy(value: Any) -> Any:
    """An overlay's value as it is set: without its nulls (each removes what is below)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def layer(documents: Iterable[Document]) -> Layering:
    builders: dict[tuple[str, str], _EntityBuilder] = {}
    unkeyed: list[tuple[str, Document]] = []
    diagnostics: list[Diagnostic] = []
    orphans: list[tuple[str, str, Document]] = []  # overlays met before any base
    duplicates: list[Entity] = []
    for order, doc in enumerate(documents):
        data = doc.data
        if not isinstance(data, dict):
            diagnostics.append(
                Diagnostic.at(
                    "not-a-mapping",
                    "a document must be a mapping that starts with `kind:`",
                    doc.start,
                    (),
                    hint="each `---` separated document is one Provider, ProviderConfiguration "
                    "or ApiProvider",
                )
            )
            continue
        kind = data.get("kind")
        if kind is None and ("kind",) in doc.broken:
            continue  # the parser refused the value and said so
        if kind is None:
            diagnostics.append(
                Diagnostic.at(
                    "missing-key",
                    "missing required key `kind`",
                    doc.start,
                    (),
                    hint="add `kind: Provider`, `ProviderConfiguration` or `ApiProvider`",
                )
            )
            continue
        if not isinstance(kind, str) or kind not in KINDS:
            diagnostics.append(
                Diagnostic.at(
                    "unknown-kind",
                    f"unknown kind {kind!r}",
                    doc.place(("kind",)),
                    ("kind",),
                    hint=(did_you_mean(kind, list(KINDS)) if isinstance(kind, str) else None)
                    or f"kind is one of {', '.join(KINDS)}",
                )
            )
            continue
        field = KINDS[kind].identity
        key = data.get(field)
        if not isinstance(key, str) or not key:
            unkeyed.append((kind, doc))  # the schema check reports the bad or missing key
            continue
        is_overlay = data.get("overlay") is True
        existing = builders.get((kind, key))
        if existing is None:
            if is_overlay:
                orphans.append((kind, key, doc))
                continue
            builders[(kind, key)] = _EntityBuilder(doc, kind, key, order)
        elif is_overlay:
            existing.overlay(doc)
        else:
            first = existing.documents[0]
            diagnostics.append(
                Diagnostic.at(
                    "duplicate-definition",
                    f"{kind} `{key}` is already defined at {first.place((field,))}",
                    doc.place((field,)),
                    (field,),
                    hint="add `overlay: true` to merge over the earlier definition, or remove one",
                    related=[first.place((field,))],
                )
            )
            duplicates.append(_EntityBuilder(doc, kind, key, order).build())
    diagnostics.extend(_orphan(kind, key, doc, builders) for kind, key, doc in orphans)
    entities = tuple(sorted((b.build() for b in builders.values()), key=lambda e: e.order))
    return Layering(entities, tuple(unkeyed), tuple(diagnostics), tuple(duplicates))


_ORDER = (
    "layers are read in order, and the files of a layer in byte order of their names "
    "(uppercase before lowercase, `10-` before `9-`)"
)


def _orphan(
    kind: str, key: str, doc: Document, builders: Mapping[tuple[str, str], _EntityBuilder]
) -> Diagnostic:
    later = builders.get((kind, key))
    if later is not None:
        base = later.documents[0]
        field = KINDS[kind].identity
        return Diagnostic.at(
            "overlay-without-base",
            f"overlay for {kind} `{key}` comes before its base, which is defined later, at "
            f"{base.place((field,))}",
            doc.key_place(("overlay",)),
            ("overlay",),
            hint=f"the base must come first: {_ORDER}; rename the files, or move the "
            "overlay to a later layer",
            related=[base.place((field,))],
        )
    same_kind = [k for (kd, k) in builders if kd == kind]
    return Diagnostic.at(
        "overlay-without-base",
        f"overlay for {kind} `{key}`, but no document defines it",
        doc.key_place(("overlay",)),
        ("overlay",),
        hint=did_you_mean(key, same_kind)
        or f"remove `overlay: true` to define it here, or define the base earlier ({_ORDER})",
    )
