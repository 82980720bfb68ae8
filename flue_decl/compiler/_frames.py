"""The state of the YAML event pass (``_events``): a frame per open collection, anchors,
and what a mapping's keys do (plain string keys only, each once; ``<<`` merge keys of
anchored mappings). The pass's builder inherits :class:`KeyRules`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from yaml.events import AliasEvent, CollectionStartEvent, Event, MappingStartEvent, ScalarEvent

from .._errors import Diagnostic, JsonPath, Severity
from ._budget import DEPTH, ENTRY, FIRST, LOGGED, MAX_COMMON, STRING
from ._places import Pos, place_at
from ._scalars import MERGE_TAG, SCALAR_TAGS, STR_TAG
from ._schemafiles import schema_words


class _AbortDocument(Exception):
    """The rest of the document is skipped (already reported)."""


class _AbortFile(Exception):
    """The rest of the file is skipped (already reported): the node budget is spent."""


T = TypeVar("T")
_NO_KEY = object()  # a map frame waiting for its next key
_NOTHING_BROKEN: frozenset[JsonPath] = frozenset()  # shared: one set per document adds up


@dataclass(slots=True)
class _Anchor:
    """An anchored value, and where the logs hold its places: entries [start, end) of
    each log, read relative to the anchored node (``Log.relative``) when an alias or a
    merge needs them (a copy for each anchor made anchors nested 60 deep cost 60 copies
    of everything inside them)."""

    value: Any
    size: int  # nodes, counting alias expansions inside it
    chars: int  # characters of its strings, keys and alias expansions included
    depth: int  # the anchored node's path length
    places: tuple[int, int] = (0, 0)
    keys: tuple[int, int] = (0, 0)
    typed: tuple[int, int] = (0, 0)


@dataclass(slots=True)
class _Frame:
    is_map: bool
    path: JsonPath
    start: Pos
    index: int  # character offset of the opening event (for `{{` detection)
    flow: bool
    anchor: str | None
    log_start: tuple[int, int, int]
    value: Any
    size: int = 1
    chars: int = 0  # as _Anchor's
    discard: bool = False  # consume the events, keep nothing (refused key or value)
    bad_tag: bool = False  # refused tag: the value becomes None
    key: Any = _NO_KEY
    key_path: JsonPath | None = None  # the last string key's path, shared with its value's
    skip_value: bool = False  # the pending key was refused: drop its value
    merging: bool = False  # the pending key is `<<`
    merge_seq: bool = False  # a `<<: [*a, *b]` list
    inherited: dict[str, Any] = field(default_factory=dict)
    inherited_places: list[tuple[JsonPath, Pos]] = field(default_factory=list)
    inherited_typed: list[tuple[JsonPath, tuple[str, str]]] = field(default_factory=list)
    inherited_broken: list[JsonPath] = field(default_factory=list)
    unquoted_template: bool = False
    seen: dict[str, Pos] = field(default_factory=dict)  # this mapping's keys, first places


def _at(value: Any, rel: JsonPath) -> Any:
    """The value at ``rel`` inside ``value``; ``_NO_KEY`` where there is none."""
    try:
        for step in rel:
            value = value[step]
    except (KeyError, IndexError, TypeError):
        return _NO_KEY
    return value


def _index(event: Event) -> int:
    assert event.start_mark is not None
    return int(event.start_mark.index)


MAX_PLACED_ALIAS = 64  # nodes: an alias of a bigger anchor is placed as one node
MAX_PARSE_DIAGNOSTICS = 200  # of one file: see Findings
MAX_SHARED = 10_000  # strings a file's parse keeps one object of: see Shared


class Log(Generic[T]):
    """(path, value) pairs in the order the pass met them, as two lists: a pair as a
    tuple would cost 56 bytes a node while a document is read."""

    __slots__ = ("paths", "values")

    def __init__(self) -> None:
        self.paths: list[JsonPath] = []
        self.values: list[T] = []

    def __len__(self) -> int:
        return len(self.paths)

    def add(self, path: JsonPath, value: T) -> None:
        self.paths.append(path)
        self.values.append(value)

    def extend(self, pairs: Iterable[tuple[JsonPath, T]]) -> None:
        for path, value in pairs:
            self.add(path, value)

    def relative(self, span: tuple[int, int], depth: int) -> Iterator[tuple[JsonPath, T]]:
        """Entries ``span`` (start, end) of the log, their paths without their first
        ``depth`` steps."""
        paths, values = self.paths, self.values
        return ((paths[i][depth:], values[i]) for i in range(*span))

    def pairs(self) -> Iterator[tuple[JsonPath, T]]:
        return zip(self.paths, self.values, strict=True)


class Shared:
    """One object for a string a file repeats: the parser makes a new one each time, and a
    dense file repeats a key or a value 100,000 times. The schemas' keys are shared from
    the start, others (up to 64 characters) until ``MAX_SHARED``: a file of distinct
    strings pays for a bounded table, not one entry more a string. ``charged``: what the
    strings new to the file cost (see _budget); such a string is still the object of the
    tree's files that gave it before (``common``: ``TreeBudget.strings``), if any did."""

    __slots__ = ("charged", "common", "words")

    def __init__(self, common: dict[str, str] | None = None) -> None:
        self.words = dict(schema_words())
        self.common = {} if common is None else common
        self.charged = 0

    def __call__(self, text: str) -> str:
        shared = self.words.get(text)
        if shared is not None:
            return shared
        self.charged += STRING + (len(text) if text.isascii() else 4 * len(text))
        if len(text) > 64:
            return text
        common = self.common.get(text)
        if common is None:
            common = text
            if len(self.common) < MAX_COMMON:
                self.common[text] = text
        if len(self.words) < MAX_SHARED:
            self.words[text] = common
        return common


class Findings:
    """A file's problems as the parser finds them, in the file's order: the first
    ``MAX_PARSE_DIAGNOSTICS``, then a count. A file of 100,000 duplicate keys must not hold
    100,000 diagnostics; what is shown is 100 a file (``_pipeline``)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.kept: list[Diagnostic] = []
        self.unlisted = 0

    def add(self, diagnostic: Diagnostic) -> None:
        if len(self.kept) < MAX_PARSE_DIAGNOSTICS:
            self.kept.append(diagnostic)
        else:
            self.unlisted += 1

    def all(self) -> list[Diagnostic]:
        """What was kept, and a notice of what was not."""
        if not self.unlisted:
            return self.kept
        notice = Diagnostic(  # every problem found reading a file is an error
            Severity.ERROR,
            "too-many-problems",
            f"{self.unlisted} more problems found reading this file are not listed",
            file=self.file,
            hint="fix the ones shown and run again",
        )
        return [*self.kept, notice]


class KeyRules:
    """Map keys and merge keys, for :class:`_events._DocumentBuilder`, which provides the
    state and steps declared here."""

    file: str
    share: Shared  # one object for a repeated string
    report: Callable[[Diagnostic], None]
    places: Log[Pos]
    key_places: Log[Pos]
    typed: Log[tuple[str, str]]
    weight: int  # charged as in _budget
    logged: int
    broken: set[JsonPath]
    stack: list[_Frame]
    anchors: dict[str, _Anchor]

    place: Callable[[Event], Pos]
    error: Callable[..., None]  # (code, message, place, path, hint=None)
    tag_of: Callable[[ScalarEvent], str]
    lookup: Callable[[AliasEvent, Pos, JsonPath], _Anchor]
    spend: Callable[[int, Pos, JsonPath], None]  # the node budgets, and the tree's check
    open: Callable[..., None]  # (event, path, place, *, discard, merge_seq=False)

    def map_key(self, frame: _Frame, event: Event) -> None:
        place = self.place(event)
        if isinstance(event, ScalarEvent):
            tag = self.tag_of(event)
            if tag == MERGE_TAG:
                frame.key, frame.merging = "<<", True
                return
            if tag != STR_TAG:
                kind = SCALAR_TAGS.get(tag, tag)
                self.error(
                    "non-string-key",
                    f"key {event.value!r} is read as {kind}, but keys must be strings",
                    place,
                    frame.path,
                    f'quote it: "{event.value}"',
                )
                frame.key, frame.skip_value = event.value, True
                return
            if event.anchor is not None:  # `&a name: ...`: *a is the string `name` (spec 6.23)
                self.spend(1, place, frame.path)
                self.anchors[str(event.anchor)] = _Anchor(event.value, 1, len(event.value), 0)
            self.string_key(frame, event.value, place)
            return
        if isinstance(event, AliasEvent):
            anchor = self.lookup(event, place, frame.path)
            if isinstance(anchor.value, str):  # `*b : ...` where &b is a string (E76Z)
                self.string_key(frame, anchor.value, place)
                return
        if (
            isinstance(event, MappingStartEvent)
            and frame.flow
            and event.flow_style
            and not frame.value
            and _index(event) == frame.index + 1
        ):
            frame.unquoted_template = True
            self.broken.add(frame.path)
            self.error(
                "unquoted-template",
                "unquoted template: YAML reads `{{ ... }}` as a nested mapping",
                frame.start,
                frame.path,
                'quote it: "{{ env.NAME }}"',
            )
        elif not frame.unquoted_template:
            self.error(
                "non-string-key",
                "keys must be strings, not collections or aliases of anything but a string",
                place,
                frame.path,
            )
        if isinstance(event, CollectionStartEvent):
            self.open(event, frame.path, place, discard=True)  # closes into skip_value below
        else:
            frame.key, frame.skip_value = None, True

    def string_key(self, frame: _Frame, key: str, place: Pos) -> None:
        key = self.share(key)
        child = (*frame.path, key)
        frame.key, frame.key_path = key, child
        frame.chars += len(key)
        first = frame.seen.get(key)
        if first is not None:
            where = f" (first at line {place_at(self.file, first).line})"
            self.report(
                Diagnostic.at(
                    "duplicate-key",
                    f"key `{key}` appears twice in one mapping{where}",
                    place_at(self.file, place),
                    child,
                    hint="YAML keeps only one of them; remove or rename the other",
                    related=[place_at(self.file, first)],
                )
            )
            frame.skip_value = True
            return
        frame.seen[key] = place
        if not (frame.discard or frame.skip_value):
            self.key_places.add(child, place)
            self.weight += ENTRY
            self.logged += LOGGED + DEPTH * len(child)

    def unknown_tag(self, tag: str, place: Pos, path: JsonPath) -> None:
        self.broken.add(path)
        self.error(
            "yaml-tag",
            f"tag {tag.replace('tag:yaml.org,2002:', '!!')} is not allowed here",
            place,
            path,
            "remove the tag (and quote the value if it should be a string)",
        )

    def place_inside(self, anchor: _Anchor, path: JsonPath) -> None:
        """Each node inside ``anchor`` placed at ``path`` as where the anchor wrote it (for
        anchors of at most ``MAX_PLACED_ALIAS`` nodes), charged a table and a logged place
        a node."""
        inside = list(self.places.relative(anchor.places, anchor.depth))
        deepest = len(path) + max((len(rel) for rel, _ in inside), default=0)
        self.weight += (FIRST + LOGGED + 3 * DEPTH * deepest) * len(inside)
        self.places.extend(((*path, *rel), pl) for rel, pl in inside if rel)
        keys = self.key_places.relative(anchor.keys, anchor.depth)
        self.key_places.extend(((*path, *rel), pl) for rel, pl in keys)
        typed = self.typed.relative(anchor.typed, anchor.depth)
        self.typed.extend(((*path, *rel), text) for rel, text in typed)

    # -- merge keys (<<) ------------------------------------------------------------

    def merge_value(self, frame: _Frame, event: Event) -> None:
        owner = frame if frame.is_map else self.stack[-2]
        place = self.place(event)
        if isinstance(event, AliasEvent):
            anchor = self.lookup(event, place, owner.path)
            if not isinstance(anchor.value, dict):
                self.error(
                    "yaml-merge",
                    "`<<` must merge a mapping",
                    place,
                    owner.path,
                    "merge an anchored mapping: `<<: *defaults`",
                )
            elif not (owner.discard or owner.skip_value):
                # The anchor's places and texts by key, once: a scan of them for each key
                # took minutes for an anchor of 100,000 keys.
                places: dict[str | int, list[tuple[JsonPath, Pos]]] = {}
                for rel, pl in self.places.relative(anchor.places, anchor.depth):
                    if rel:
                        places.setdefault(rel[0], []).append((rel, pl))
                texts: dict[str | int, list[tuple[JsonPath, tuple[str, str]]]] = {}
                for rel, text in self.typed.relative(anchor.typed, anchor.depth):
                    if rel:
                        texts.setdefault(rel[0], []).append((rel, text))
                for key, value in anchor.value.items():
                    if key in owner.inherited:  # the earlier merge source wins
                        continue
                    owner.inherited[key] = value
                    self.weight += ENTRY
                    owner.inherited_places.extend(
                        ((*owner.path, *rel), pl) for rel, pl in places.get(key, ())
                    )
                    for rel, text in texts.get(key, ()):  # `yes` merged is still written `yes`
                        path = (*owner.path, *rel)
                        if text[0] != "null" and _at(anchor.value, rel) is None:
                            owner.inherited_broken.append(path)  # refused where written
                        else:
                            owner.inherited_typed.append((path, text))
                # The merged mapping, and its places copied (with their paths) as an alias's.
                self.weight += FIRST
                placed = anchor.places[1] - anchor.places[0]
                self.logged += (LOGGED + DEPTH * (len(owner.path) + 2)) * placed
                self.weight += anchor.chars  # what its expansions hold when written out
                owner.chars += anchor.chars
            owner.size += anchor.size
            if frame is owner:
                owner.merging, owner.key = False, _NO_KEY
            return
        if (
            isinstance(event, CollectionStartEvent)
            and not isinstance(event, MappingStartEvent)
            and frame is owner
        ):
            self.open(event, owner.path, place, discard=False, merge_seq=True)
            return
        if frame.merge_seq and frame.discard:  # already reported for this `<<`
            if isinstance(event, CollectionStartEvent):
                self.open(event, owner.path, place, discard=True)
            return
        if frame.merge_seq:
            frame.discard = True
        self.error(
            "yaml-merge",
            "`<<` must merge anchored mappings: `<<: *name` or `<<: [*a, *b]`",
            place,
            owner.path,
            "merge an anchored mapping: `<<: *defaults`",
        )
        if isinstance(event, CollectionStartEvent):
            self.open(event, owner.path, place, discard=True)
        elif frame is owner:
            owner.merging, owner.key = False, _NO_KEY
