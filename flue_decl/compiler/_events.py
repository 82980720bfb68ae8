"""YAML text to documents, straight from libyaml's *event* stream, in one iterative pass
(see ``_parse`` for why): each collection's depth checked as it opens, each alias charged
its anchor's size before it is expanded, every value and key given its place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
)

from .._errors import Diagnostic, JsonPath
from ._budget import (
    COLLECTION,
    DEPTH,
    DOCUMENT,
    FIRST,
    ITEM,
    LOGGED,
    MAX_ALIAS_NODES_PER_TREE,
    MAX_NODES_PER_FILE,
    NUMBER,
    TYPED,
    TreeBudget,
    refusal,
)
from ._document import Document
from ._frames import (
    _NO_KEY,
    _NOTHING_BROKEN,
    MAX_PLACED_ALIAS,
    Findings,
    KeyRules,
    Log,
    Shared,
    _AbortDocument,
    _AbortFile,
    _Anchor,
    _Frame,
    _index,
)
from ._places import Places, Pos, place_at, pos
from ._scalars import (
    COLLECTION_TAGS,
    NULL_TAG,
    SCALAR_TAGS,
    STR_TAG,
    construct,
    implicit_text,
    resolve_tag,
)

MAX_DEPTH = 64


class _DocumentBuilder(KeyRules):
    def __init__(self, file: str, layer: int, tree: TreeBudget) -> None:
        self.file = file
        self.layer = layer
        self.budget = MAX_NODES_PER_FILE
        self.tree = tree
        self.weight = 0  # bytes this file's documents hold (see _budget)
        self.logged = 0  # bytes the logs of the document being read hold
        self.share = Shared(tree.strings)
        self.findings = Findings(file)
        self.typed_texts: dict[tuple[str, str], tuple[str, str]] = {}
        self.report = self.findings.add
        self.constructor = SafeConstructor()
        self.documents: list[Document] = []

    # -- helpers ------------------------------------------------------------------

    def place(self, event: Event) -> Pos:
        mark = event.start_mark
        assert mark is not None
        return pos(mark.line + 1, mark.column + 1)

    def error(
        self, code: str, message: str, place: Pos, path: JsonPath, hint: str | None = None
    ) -> None:
        where = place_at(self.file, place)
        self.report(Diagnostic.at(code, message, where, path, hint=hint))

    def spend(self, nodes: int, place: Pos, path: JsonPath) -> None:
        """Charge ``nodes`` to the file's node budget, and check the tree's (see _budget)."""
        self.budget -= nodes
        tree = self.tree
        if self.budget < 0:
            self.refuse(refusal("file", MAX_NODES_PER_FILE), place, path)
        if tree.used + self.weight + self.share.charged + self.logged > tree.limit:
            self.refuse(refusal("memory", tree.limit), place, path)

    def refuse(self, why: tuple[str, str], place: Pos, path: JsonPath) -> NoReturn:
        self.error("yaml-too-large", why[0], place, path, why[1])
        raise _AbortFile

    def top(self) -> _Frame | None:
        return self.stack[-1] if self.stack else None

    def log_position(self) -> tuple[int, int, int]:
        return (len(self.places), len(self.key_places), len(self.typed))

    def tag_of(self, event: ScalarEvent) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            return resolve_tag(event.value, event.implicit[0])
        return str(tag)

    def lookup(self, event: AliasEvent, place: Pos, path: JsonPath) -> _Anchor:
        anchor = self.anchors.get(str(event.anchor))
        if anchor is not None:
            self.spend(anchor.size, place, path)  # charged before anything is expanded
            self.tree.aliases -= anchor.size
            if self.tree.aliases < 0:
                self.refuse(refusal("aliases", MAX_ALIAS_NODES_PER_TREE), place, path)
            return anchor
        if any(f.anchor == event.anchor for f in self.stack):
            self.error(
                "yaml-alias-cycle",
                f"alias *{event.anchor} refers to a node that contains it",
                place,
                path,
                "aliases must not be recursive",
            )
        else:
            self.error(
                "yaml-syntax",
                f"found undefined alias *{event.anchor}",
                place,
                path,
                "define the anchor (&name) before using the alias (*name)",
            )
        raise _AbortDocument

    # -- one document -------------------------------------------------------------

    def document(self, events: Iterator[Event], index: int) -> None:
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.logged = 0  # the last document's logs are freed
        self.places: Log[Pos] = Log()
        self.key_places: Log[Pos] = Log()
        self.typed: Log[tuple[str, str]] = Log()
        self.broken: set[JsonPath] = set()
        self.root: Any = _NO_KEY
        self.root_place: Pos | None = None
        try:
            for event in events:
                if isinstance(event, DocumentEndEvent):
                    break
                self.event(event)
        except _AbortDocument:
            try:
                for event in events:  # skip to the end of this document, building nothing
                    if isinstance(event, DocumentEndEvent):
                        break
            except yaml.YAMLError:
                # The refused document is also malformed further on (libyaml's own depth
                # limit, say): it has been reported once; the rest of the file is lost.
                raise _AbortFile from None
            return
        if self.root is _NO_KEY or self.root_place is None:
            return
        self.weight += DOCUMENT
        self.spend(0, self.root_place, ())  # what the document's end charged, checked here
        self.documents.append(
            Document(
                self.file,
                self.layer,
                index,
                place_at(self.file, self.root_place),
                self.root,
                Places.of(
                    self.file, self.places.pairs(), self.key_places.pairs(), self.typed.pairs()
                ),
                frozenset(self.broken) if self.broken else _NOTHING_BROKEN,
            )
        )

    def event(self, event: Event) -> None:
        if isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            self.close()
            return
        frame = self.top()
        if frame is not None and frame.is_map and frame.key is _NO_KEY:
            self.map_key(frame, event)
            return
        if frame is not None and (frame.merging or frame.merge_seq):
            self.merge_value(frame, event)
            return
        place = self.place(event)
        if frame is None:
            path: JsonPath = ()
        elif not frame.is_map:
            path = (*frame.path, len(frame.value))
        elif frame.key is None:  # a refused key (an alias or a collection): the mapping's
            path = frame.path
        else:  # one tuple for a key's place and its value's: a node each in a dense file
            shared = frame.key_path
            path = shared if shared and shared[-1] == frame.key else (*frame.path, frame.key)
        keep = frame is None or not (frame.skip_value or frame.discard)
        if isinstance(event, CollectionStartEvent):
            self.open(event, path, place, discard=not keep)
            return
        start = self.log_position()
        if isinstance(event, AliasEvent):
            anchor = self.lookup(event, place, path)
            self.weight += anchor.chars  # what its expansion holds when written out
            if keep:
                self.places.add(path, place)
                self.logged += LOGGED + DEPTH * len(path)
                # Each node of a small anchor keeps its own place at every alias; a big one
                # is placed at the alias (what is inside it reports there): an expansion
                # costs no memory per node, so the budget bounds the value, not the places.
                if anchor.size <= MAX_PLACED_ALIAS:
                    self.place_inside(anchor, path)
            self.finish(
                anchor.value, path, place, anchor.size, anchor.chars, anchor=None, start=start
            )
        elif isinstance(event, ScalarEvent):
            tag = self.tag_of(event)
            if frame is None and tag == NULL_TAG and event.value == "":
                return  # an empty document
            self.spend(1, place, path)
            value = self.scalar(event, tag, path, place, keep)
            if keep:
                self.places.add(path, place)
                self.logged += LOGGED + DEPTH * len(path)
            chars = len(event.value)
            self.finish(value, path, place, 1, chars, anchor=event.anchor, start=start)

    def scalar(self, event: ScalarEvent, tag: str, path: JsonPath, place: Pos, keep: bool) -> Any:
        if tag == STR_TAG:
            return self.share(event.value)
        kind = SCALAR_TAGS.get(tag)
        if kind is None:
            self.unknown_tag(tag, place, path)
            return None
        value, problem = construct(self.constructor, event, tag, kind)
        if problem is not None:
            self.broken.add(path)
            self.error(problem[0], problem[1], place, path, problem[2])
        elif type(value) is int:
            value = self.tree.number(value)
        self.weight += TYPED.get(kind, 0) + (len(event.value) if kind == "binary" else 0)
        if keep and implicit_text(value) != (kind, event.value):  # see implicit_text
            text = (kind, event.value)
            shared = self.typed_texts.get(text)
            if shared is not None:
                text = shared
            else:
                self.weight += NUMBER + len(event.value)
                if kind in ("boolean", "null"):  # a few texts (`on`, `~`): one tuple each
                    self.typed_texts[text] = text
            self.typed.add(path, text)
        return value

    # -- collections ----------------------------------------------------------------

    def open(
        self,
        event: CollectionStartEvent,
        path: JsonPath,
        place: Pos,
        *,
        discard: bool,
        merge_seq: bool = False,
    ) -> None:
        self.weight += COLLECTION
        self.logged += LOGGED + DEPTH * len(path)
        self.spend(1, place, path)
        if len(self.stack) >= MAX_DEPTH:
            self.error(
                "yaml-too-deep",
                f"nesting deeper than {MAX_DEPTH} levels",
                place,
                path,
                "flatten the structure; no provider document needs this depth",
            )
            raise _AbortDocument
        is_map = isinstance(event, MappingStartEvent)
        frame = _Frame(
            is_map,
            path,
            place,
            _index(event),
            bool(event.flow_style),
            event.anchor,
            self.log_position(),
            {} if is_map else [],
            discard=discard,
            merge_seq=merge_seq,
        )
        if event.tag not in COLLECTION_TAGS:
            if not discard:
                self.unknown_tag(str(event.tag), place, path)
            frame.discard = frame.bad_tag = True
        if not discard and not merge_seq:
            self.places.add(path, place)
        self.stack.append(frame)

    def close(self) -> None:
        frame = self.stack.pop()
        parent = self.top()
        if frame.merge_seq:
            assert parent is not None
            parent.size += frame.size
            parent.merging, parent.key = False, _NO_KEY
            return
        if frame.discard and not frame.bad_tag:
            if parent is None:
                raise _AbortDocument
            parent.size += frame.size
            if parent.is_map:
                if parent.merging:
                    parent.merging, parent.key = False, _NO_KEY
                elif parent.key is _NO_KEY:  # a refused collection key: drop its value too
                    parent.key, parent.skip_value = None, True
                else:
                    parent.key, parent.skip_value = _NO_KEY, False
            return
        value: Any = None if frame.bad_tag else frame.value
        if frame.unquoted_template:
            value = {}
        elif frame.is_map and frame.inherited:
            explicit = set(value)
            value = {**{k: v for k, v in frame.inherited.items() if k not in explicit}, **value}
            n = len(frame.path)
            self.places.extend((p, pl) for p, pl in frame.inherited_places if p[n] not in explicit)
            self.typed.extend((p, t) for p, t in frame.inherited_typed if p[n] not in explicit)
            self.broken.update(p for p in frame.inherited_broken if p[n] not in explicit)
        self.finish(
            value,
            frame.path,
            frame.start,
            frame.size,
            frame.chars,
            anchor=frame.anchor,
            start=frame.log_start,
        )

    def finish(
        self,
        value: Any,
        path: JsonPath,
        place: Pos,
        size: int,
        chars: int,
        *,
        anchor: str | None,
        start: tuple[int, int, int],
    ) -> None:
        """Attach a finished value to its parent (or make it the root); record its anchor."""
        if anchor is not None:
            self.anchors[anchor] = _Anchor(
                value,
                size,
                chars,
                len(path),
                (start[0], len(self.places)),
                (start[1], len(self.key_places)),
                (start[2], len(self.typed)),
            )
        parent = self.top()
        if parent is None:
            self.root, self.root_place = value, place
            return
        parent.size += size
        parent.chars += chars
        if parent.is_map:
            if not (parent.skip_value or parent.discard or parent.unquoted_template):
                if not parent.value:
                    self.weight += FIRST + DEPTH * len(path)
                parent.value[parent.key] = value
            parent.key, parent.skip_value = _NO_KEY, False
        elif not parent.discard:
            self.weight += ITEM if parent.value else ITEM + FIRST + DEPTH * len(path)
            parent.value.append(value)
