"""YAML text to documents that remember where every node came from.

PyYAML's loaders silently accept duplicate keys (last one wins) and non-string keys
(``1: x``, ``yes: x``), forget positions once objects are built, and compose the node
graph recursively in C, where a deeply nested document crashes the process and an alias
bomb is expanded before anyone can look. So values are built here straight from
libyaml's *event* stream, in one iterative pass:

- the nesting depth is checked as each collection opens, before anything is built;
- an alias costs the size of its anchor, charged against a per-file node budget
  *before* it is expanded, so a few hundred bytes cannot become millions of nodes;
- an alias to an anchor that is still open (a cycle) or undefined is refused;
- every value and key gets its file:line:col, keys are checked as they are met, and
  only the plain YAML tags are accepted: a ``!!python/...`` tag is refused, nothing runs.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
import yaml.reader
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from .._discover import MAX_FILE_BYTES, SourceFile, read_capped
from .._errors import Diagnostic, JsonPath, Place, Severity, Spot
from . import _suppress
from ._suppress import Suppression

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {
    NULL_TAG: "null",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:int": "integer",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:timestamp": "date",
    "tag:yaml.org,2002:binary": "binary",
    STR_TAG: "string",
}
_COLLECTION_TAGS = {None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}

MAX_NODES_PER_FILE = 200_000
MAX_DEPTH = 64


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


class _AbortDocument(Exception):
    """The rest of the document is skipped (already reported)."""


class _AbortFile(Exception):
    """The rest of the file is skipped (already reported): the node budget is spent."""


_NO_KEY = object()  # a map frame waiting for its next key
_NOTHING_BROKEN: frozenset[JsonPath] = frozenset()  # shared: one set per document adds up


@dataclass(slots=True)
class _Anchor:
    value: Any
    size: int  # nodes, counting alias expansions inside it
    places: list[tuple[JsonPath, Spot]]  # relative to the anchored node
    key_places: list[tuple[JsonPath, Spot]]
    typed: list[tuple[JsonPath, tuple[str, str]]]


@dataclass(slots=True)
class _Frame:
    is_map: bool
    path: JsonPath
    start: Spot
    index: int  # character offset of the opening event (for `{{` detection)
    flow: bool
    anchor: str | None
    log_start: tuple[int, int, int]
    value: Any
    size: int = 1
    discard: bool = False  # consume the events, keep nothing (refused key or value)
    bad_tag: bool = False  # refused tag: the value becomes None
    key: Any = _NO_KEY
    skip_value: bool = False  # the pending key was refused: drop its value
    merging: bool = False  # the pending key is `<<`
    merge_seq: bool = False  # a `<<: [*a, *b]` list
    inherited: dict[str, Any] = field(default_factory=dict)
    inherited_places: list[tuple[JsonPath, Spot]] = field(default_factory=list)
    unquoted_template: bool = False
    seen: dict[str, Spot] = field(default_factory=dict)  # this mapping's keys, first places


def _index(event: Event) -> int:
    assert event.start_mark is not None
    return int(event.start_mark.index)


class _DocumentBuilder:
    def __init__(self, file: str, layer: int) -> None:
        self.file = file
        self.layer = layer
        self.budget = MAX_NODES_PER_FILE
        self.diagnostics: list[Diagnostic] = []
        self.constructor = SafeConstructor()
        self.resolver = Resolver()
        self.documents: list[Document] = []

    # -- helpers ------------------------------------------------------------------

    def place(self, event: Event) -> Spot:
        mark = event.start_mark
        assert mark is not None
        return (self.file, mark.line + 1, mark.column + 1)

    def error(
        self, code: str, message: str, place: Spot, path: JsonPath, hint: str | None = None
    ) -> None:
        self.diagnostics.append(Diagnostic.at(code, message, Place(*place), path, hint=hint))

    def spend(self, nodes: int, place: Spot, path: JsonPath) -> None:
        self.budget -= nodes
        if self.budget < 0:
            self.error(
                "yaml-too-large",
                f"the file expands to more than {MAX_NODES_PER_FILE} nodes",
                place,
                path,
                "aliases (*name) repeat whole subtrees; write the values out or use fewer",
            )
            raise _AbortFile

    def top(self) -> _Frame | None:
        return self.stack[-1] if self.stack else None

    def log_position(self) -> tuple[int, int, int]:
        return (len(self.places), len(self.key_places), len(self.typed))

    def tag_of(self, event: ScalarEvent) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            resolved: str = self.resolver.resolve(  # type: ignore[no-untyped-call]
                ScalarNode, event.value, event.implicit
            )
            return resolved
        return str(tag)

    def unknown_tag(self, tag: str, place: Spot, path: JsonPath) -> None:
        self.broken.add(path)
        self.error(
            "yaml-tag",
            f"tag {tag.replace('tag:yaml.org,2002:', '!!')} is not allowed here",
            place,
            path,
            "remove the tag (and quote the value if it should be a string)",
        )

    def lookup(self, event: AliasEvent, place: Spot, path: JsonPath) -> _Anchor:
        anchor = self.anchors.get(str(event.anchor))
        if anchor is not None:
            self.spend(anchor.size, place, path)  # charged before anything is expanded
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
        self.places: list[tuple[JsonPath, Spot]] = []
        self.key_places: list[tuple[JsonPath, Spot]] = []
        self.typed: list[tuple[JsonPath, tuple[str, str]]] = []
        self.broken: set[JsonPath] = set()
        self.root: Any = _NO_KEY
        self.root_place: Spot | None = None
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
        self.documents.append(
            Document(
                self.file,
                self.layer,
                index,
                Place(*self.root_place),
                self.root,
                dict(self.places),
                dict(self.key_places),
                dict(self.typed),
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
        else:  # a refused key (an alias or a collection) leaves None: stay at the mapping
            path = frame.path if frame.key is None else (*frame.path, frame.key)
        keep = frame is None or not (frame.skip_value or frame.discard)
        if isinstance(event, CollectionStartEvent):
            self.open(event, path, place, discard=not keep)
            return
        start = self.log_position()
        if isinstance(event, AliasEvent):
            anchor = self.lookup(event, place, path)
            if keep:
                self.places.append((path, place))
                self.places.extend(((*path, *rel), pl) for rel, pl in anchor.places if rel)
                self.key_places.extend(((*path, *rel), pl) for rel, pl in anchor.key_places)
                self.typed.extend(((*path, *rel), t) for rel, t in anchor.typed)
            self.finish(anchor.value, path, place, anchor.size, anchor=None, start=start)
        elif isinstance(event, ScalarEvent):
            tag = self.tag_of(event)
            if frame is None and tag == NULL_TAG and event.value == "":
                return  # an empty document
            self.spend(1, place, path)
            value = self.scalar(event, tag, path, place, keep)
            if keep:
                self.places.append((path, place))
            self.finish(value, path, place, 1, anchor=event.anchor, start=start)

    def scalar(self, event: ScalarEvent, tag: str, path: JsonPath, place: Spot, keep: bool) -> Any:
        if tag == STR_TAG:
            return event.value
        kind = _SCALAR_TAGS.get(tag)
        if kind is None:
            self.unknown_tag(tag, place, path)
            return None
        if keep:
            self.typed.append((path, (kind, event.value)))
        node = ScalarNode(tag, event.value, style=event.style)
        try:
            value = self.constructor.yaml_constructors[tag](self.constructor, node)
        except (ConstructorError, ValueError, OverflowError) as exc:
            self.broken.add(path)
            self.error(
                "yaml-syntax",
                f"cannot read {kind} {event.value!r}: {exc}",
                place,
                path,
                "quote the value to make it a string",
            )
            return None
        problem = _number_problem(kind, event.value, value)
        if problem is not None:
            self.broken.add(path)
            self.error("invalid-value", problem[0], place, path, problem[1])
            return None
        return value

    # -- keys -----------------------------------------------------------------------

    def map_key(self, frame: _Frame, event: Event) -> None:
        place = self.place(event)
        if isinstance(event, ScalarEvent):
            tag = self.tag_of(event)
            if tag == MERGE_TAG:
                frame.key, frame.merging = "<<", True
                return
            if tag != STR_TAG:
                kind = _SCALAR_TAGS.get(tag, tag)
                self.error(
                    "non-string-key",
                    f"key {event.value!r} is read as {kind}, but keys must be strings",
                    place,
                    frame.path,
                    f'quote it: "{event.value}"',
                )
                frame.key, frame.skip_value = event.value, True
                return
            key = event.value
            child = (*frame.path, key)
            frame.key = key
            first = frame.seen.get(key)
            if first is not None:
                where = f" (first at line {first[1]})"
                self.diagnostics.append(
                    Diagnostic.at(
                        "duplicate-key",
                        f"key `{key}` appears twice in one mapping{where}",
                        Place(*place),
                        child,
                        hint="YAML keeps only one of them; remove or rename the other",
                        related=[Place(*first)],
                    )
                )
                frame.skip_value = True
                return
            frame.seen[key] = place
            if not (frame.discard or frame.skip_value):
                self.key_places.append((child, place))
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
                "keys must be plain strings, not aliases or collections",
                place,
                frame.path,
            )
        if isinstance(event, CollectionStartEvent):
            self.open(event, frame.path, place, discard=True)  # closes into skip_value below
        else:
            frame.key, frame.skip_value = None, True

    # -- collections ----------------------------------------------------------------

    def open(
        self,
        event: CollectionStartEvent,
        path: JsonPath,
        place: Spot,
        *,
        discard: bool,
        merge_seq: bool = False,
    ) -> None:
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
        if event.tag not in _COLLECTION_TAGS:
            if not discard:
                self.unknown_tag(str(event.tag), place, path)
            frame.discard = frame.bad_tag = True
        if not discard and not merge_seq:
            self.places.append((path, place))
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
        self.finish(
            value, frame.path, frame.start, frame.size, anchor=frame.anchor, start=frame.log_start
        )

    def finish(
        self,
        value: Any,
        path: JsonPath,
        place: Spot,
        size: int,
        *,
        anchor: str | None,
        start: tuple[int, int, int],
    ) -> None:
        """Attach a finished value to its parent (or make it the root); record its anchor."""
        if anchor is not None:
            n = len(path)
            self.anchors[anchor] = _Anchor(
                value,
                size,
                [(p[n:], pl) for p, pl in self.places[start[0] :]],
                [(p[n:], pl) for p, pl in self.key_places[start[1] :]],
                [(p[n:], t) for p, t in self.typed[start[2] :]],
            )
        parent = self.top()
        if parent is None:
            self.root, self.root_place = value, place
            return
        parent.size += size
        if parent.is_map:
            if not (parent.skip_value or parent.discard or parent.unquoted_template):
                parent.value[parent.key] = value
            parent.key, parent.skip_value = _NO_KEY, False
        elif not parent.discard:
            parent.value.append(value)

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
                for key, value in anchor.value.items():
                    if key not in owner.inherited:  # the earlier merge source wins
                        owner.inherited[key] = value
                        owner.inherited_places.extend(
                            ((*owner.path, *rel), pl)
                            for rel, pl in anchor.places
                            if rel and rel[0] == key
                        )
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


# What JSON and JavaScript read as the same number: plain decimal digits.
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
MAX_SAFE_INTEGER = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER


def _number_problem(kind: str, raw: str, value: Any) -> tuple[str, str] | None:
    """Why a YAML number cannot stand in a document, with a fix: YAML 1.1 spellings that
    read as something else than they look, numbers JSON cannot hold, and integers
    JavaScript cannot hold exactly."""
    if kind == "number" and isinstance(value, float):
        if not math.isfinite(value):
            return (
                f"`{raw}` is not a finite number; JSON and Flue's runtime have no such value",
                "write a number, or quote it to keep the text",
            )
        if not _PLAIN_FLOAT.fullmatch(raw):
            what = (
                "a sexagesimal (base 60) number" if ":" in raw else "a number with `_` separators"
            )
            return (
                f"`{raw}` is {what} in YAML 1.1: it reads as {value}",
                f"write {value} if that is meant, or quote it to keep the text",
            )
        return None
    if kind != "integer" or not isinstance(value, int):
        return None
    if not _DECIMAL.fullmatch(raw):
        if ":" in raw:
            what = "a sexagesimal (base 60) number"
        elif raw.lstrip("+-").startswith(("0x", "0b")):
            what = "a hexadecimal or binary number"
        elif "_" in raw:
            what = "a number with `_` separators"
        else:
            what = "an octal number"
        return (
            f"`{raw}` is {what} in YAML 1.1: it reads as {value}",
            f"write {value} if that is meant, or quote it to keep the text",
        )
    if abs(value) > MAX_SAFE_INTEGER:
        return (
            f"{raw} is larger than JavaScript can represent exactly (2^53 - 1): Flue's runtime "
            "would read another number",
            "use a smaller number",
        )
    return None


def decode(raw: bytes, file: str) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 (a BOM is fine); a bad byte is reported by line and column, not offset."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return None, Diagnostic.at(
            "encoding",
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
            Place(file, line, column),
            hint="save the file as UTF-8",
        )
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        return None, Diagnostic.at(
            "encoding",
            "the file contains a NUL character",
            Place(file, line, column),
            hint="save the file as UTF-8 text",
        )
    return text, None


def read_source(
    source: SourceFile, max_bytes: int = MAX_FILE_BYTES
) -> tuple[bytes | None, Diagnostic | None]:
    try:
        raw = read_capped(source.path, max_bytes)
    except OSError as exc:
        return None, Diagnostic(
            Severity.ERROR,
            "io-error",
            f"cannot read {source.path}: {exc.strerror or exc}",
            file=source.path,
        )
    if len(raw) > max_bytes:
        return None, Diagnostic.at(
            "file-too-large",
            f"file is larger than {max_bytes} bytes",
            Place(source.path, 1, 1),
            hint="split it into several files",
        )
    return raw, None


def parse_text(text: str, source: SourceFile, sha256: str | None = None) -> ParsedFile:
    builder = _DocumentBuilder(source.path, source.layer)
    index = 0
    try:
        events = iter(yaml.parse(text, Loader=_Loader))
        for event in events:
            if isinstance(event, DocumentStartEvent):
                builder.document(events, index)
                index += 1
    except _AbortFile:
        pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        place = (
            Place(source.path, mark.line + 1, mark.column + 1) if mark else Place(source.path, 1, 1)
        )
        problem = exc.problem or exc.context or "invalid YAML"
        message = f"invalid YAML: {problem}"
        context = exc.context_mark
        if exc.problem and exc.context and context is not None and context is not mark:
            message += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
        if "maximum nesting depth" in problem:  # libyaml's own limit, met while scanning ahead
            builder.diagnostics.append(
                Diagnostic.at(
                    "yaml-too-deep",
                    f"nesting deeper than {MAX_DEPTH} levels",
                    place,
                    hint="flatten the structure; no provider document needs this depth",
                )
            )
        else:
            builder.diagnostics.append(
                Diagnostic.at("yaml-syntax", message, place, hint=_syntax_hint(problem))
            )
    except yaml.reader.ReaderError as exc:  # a control character: position, not a mark
        position = min(max(exc.position, 0), len(text))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character))
        builder.diagnostics.append(
            Diagnostic.at(
                "yaml-syntax",
                f"control character U+{character:04X} is not allowed in YAML",
                Place(source.path, line, column),
                hint="remove it, or write it as an escape inside double quotes",
            )
        )
    except yaml.YAMLError as exc:  # anything else without a mark
        builder.diagnostics.append(
            Diagnostic.at("yaml-syntax", f"invalid YAML: {exc}", Place(source.path, 1, 1))
        )
    suppressions, problems = _suppress.find(text, source.path)
    return ParsedFile(
        source,
        tuple(builder.documents),
        (*builder.diagnostics, *problems),
        sha256,
        suppressions,
    )


def _syntax_hint(problem: str) -> str | None:
    if "mapping values are not allowed" in problem:
        return "quote values that contain `: `"
    if "found character '\\t'" in problem or "tab" in problem:
        return "indent with spaces, not tabs"
    if "found undefined alias" in problem:
        return "define the anchor (&name) before using the alias (*name)"
    if "expected <block end>" in problem:
        return "check the indentation of this line and the one above"
    return None


def parse_file(source: SourceFile, max_bytes: int = MAX_FILE_BYTES) -> ParsedFile:
    raw, problem = read_source(source, max_bytes)
    if raw is None:
        assert problem is not None
        return ParsedFile(source, (), (problem,))
    digest = hashlib.sha256(raw).hexdigest()
    text, problem = decode(raw, source.path)
    if text is None:
        assert problem is not None
        return ParsedFile(source, (), (problem,), digest)
    return parse_text(text, source, digest)
