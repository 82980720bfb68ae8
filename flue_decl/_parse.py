"""Stage 2: YAML text to documents that remember where every node came from.

PyYAML's own loaders silently accept duplicate keys (last one wins) and
non-string keys (``1: x``, ``yes: x``), and forget positions once objects are
built. Here the composer's node graph is walked by hand instead: every value
gets its file:line:col, keys are checked as they are met, and aliases are
expanded under a node budget so a small alias bomb cannot make later stages
walk millions of nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ._discover import SourceFile
from ._errors import Diagnostic, JsonPath, Place, Severity

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:int": "integer",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:timestamp": "date",
    "tag:yaml.org,2002:binary": "binary",
    STR_TAG: "string",
}
_COLLECTION_TAGS = {"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}

MAX_FILE_BYTES = 1 << 20
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
    places: Mapping[JsonPath, Place]
    key_places: Mapping[JsonPath, Place]
    # Scalars whose YAML typing made them something other than a string,
    # with their source text: lets later stages say "quote it".
    typed_scalars: Mapping[JsonPath, tuple[str, str]] = field(default_factory=dict)
    # Paths whose value the parser refused (and reported): later stages stay quiet there.
    broken: frozenset[JsonPath] = frozenset()

    def place(self, path: JsonPath) -> Place:
        """The closest known place for ``path``: the node itself, else its nearest parent."""
        while True:
            if path in self.places:
                return self.places[path]
            if not path:
                return self.start
            path = path[:-1]

    def key_place(self, path: JsonPath) -> Place:
        return self.key_places.get(path) or self.place(path)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    file: SourceFile
    documents: tuple[Document, ...]
    diagnostics: tuple[Diagnostic, ...]
    sha256: str | None = None  # of the bytes read; None when unreadable


class _Abort(Exception):
    """Stops walking a document after a fatal, already-reported problem."""


def _place(file: str, node: Node) -> Place:
    mark = node.start_mark
    return Place(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.budget = MAX_NODES_PER_FILE
        self.diagnostics: list[Diagnostic] = []
        self.constructor = SafeConstructor()

    def document(self, root: Node, layer: int, index: int) -> Document | None:
        self.places: dict[JsonPath, Place] = {}
        self.key_places: dict[JsonPath, Place] = {}
        self.typed: dict[JsonPath, tuple[str, str]] = {}
        self.active: set[int] = set()
        self.broken: set[JsonPath] = set()
        try:
            data = self.value(root, (), 0)
        except _Abort:
            return None
        return Document(
            self.file,
            layer,
            index,
            _place(self.file, root),
            data,
            self.places,
            self.key_places,
            self.typed,
            frozenset(self.broken),
        )

    def error(self, code: str, message: str, node: Node, path: JsonPath, hint: str | None) -> None:
        self.diagnostics.append(
            Diagnostic.at(code, message, _place(self.file, node), path, hint=hint)
        )

    def value(self, node: Node, path: JsonPath, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            self.error(
                "yaml-too-large",
                f"document expands to more than {MAX_NODES_PER_FILE} nodes",
                node,
                path,
                "aliases (*name) multiply nodes; write the values out or use fewer aliases",
            )
            raise _Abort
        if depth > MAX_DEPTH:
            self.error(
                "yaml-too-deep",
                f"nesting deeper than {MAX_DEPTH} levels",
                node,
                path,
                None,
            )
            raise _Abort
        self.places[path] = _place(self.file, node)
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.active:
            self.error(
                "yaml-alias-cycle",
                "an alias refers to a node that contains it",
                node,
                path,
                "aliases must not be recursive",
            )
            raise _Abort
        if node.tag not in _COLLECTION_TAGS:
            self.unknown_tag(node, path)
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [
                    self.value(child, (*path, i), depth + 1) for i, child in enumerate(node.value)
                ]
            assert isinstance(node, MappingNode)
            return self.mapping(node, path, depth)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: ScalarNode, path: JsonPath) -> Any:
        if node.tag == STR_TAG:
            return node.value
        kind = _SCALAR_TAGS.get(node.tag)
        if kind is None:
            self.unknown_tag(node, path)
            return None
        self.typed[path] = (kind, node.value)
        try:
            return self.constructor.yaml_constructors[node.tag](self.constructor, node)
        except (ConstructorError, ValueError) as exc:
            self.broken.add(path)
            self.error(
                "yaml-syntax",
                f"cannot read {kind} {node.value!r}: {exc}",
                node,
                path,
                "quote the value to make it a string",
            )
            return None

    def unknown_tag(self, node: Node, path: JsonPath) -> None:
        self.broken.add(path)
        self.error(
            "yaml-tag",
            f"tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed here",
            node,
            path,
            "remove the tag (and quote the value if it should be a string)",
        )

    def mapping(self, node: MappingNode, path: JsonPath, depth: int) -> dict[str, Any]:
        # Merge keys (<<: *base) are built first so that the mapping's own keys,
        # built after, win both in value and in recorded place. Among several
        # merge sources the earlier wins, as YAML 1.1 defines.
        inherited: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                continue
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            if not all(isinstance(source, MappingNode) for source in sources):
                self.error(
                    "yaml-merge",
                    "`<<` must merge a mapping or a list of mappings",
                    value_node,
                    path,
                    "merge an anchored mapping: `<<: *defaults`",
                )
                continue
            for source in sources:
                for key, value in self.value(source, path, depth + 1).items():
                    inherited.setdefault(key, value)
        self.places[path] = _place(self.file, node)
        if _unquoted_template(node):
            self.broken.add(path)
            self.error(
                "unquoted-template",
                "unquoted template: YAML reads `{{ ... }}` as a nested mapping",
                node,
                path,
                'quote it: "{{ env.NAME }}"',
            )
            return {}
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            child = (*path, key)
            if key in result:
                first = self.key_places[child]
                self.diagnostics.append(
                    Diagnostic.at(
                        "duplicate-key",
                        f"key `{key}` appears twice in one mapping (first at line {first.line})",
                        _place(self.file, key_node),
                        child,
                        hint="YAML keeps only one of them; remove or rename the other",
                        related=[first],
                    )
                )
                continue
            self.key_places[child] = _place(self.file, key_node)
            result[key] = self.value(value_node, child, depth + 1)
        return {**{k: v for k, v in inherited.items() if k not in result}, **result}

    def key(self, node: Node, path: JsonPath) -> str | None:
        if isinstance(node, ScalarNode) and node.tag == STR_TAG:
            return str(node.value)
        if isinstance(node, ScalarNode):
            kind = _SCALAR_TAGS.get(node.tag, node.tag)
            self.error(
                "non-string-key",
                f"key {node.value!r} is read as {kind}, but keys must be strings",
                node,
                path,
                f'quote it: "{node.value}"',
            )
        else:
            self.error(
                "non-string-key", "keys must be plain strings, not collections", node, path, None
            )
        return None


def _unquoted_template(node: MappingNode) -> bool:
    """``{{ env.X }}`` written without quotes: a flow mapping whose first key is a flow
    mapping that starts right after the opening brace."""
    if not node.flow_style or not node.value:
        return False
    first_key = node.value[0][0]
    return (
        isinstance(first_key, MappingNode)
        and bool(first_key.flow_style)
        and first_key.start_mark.index == node.start_mark.index + 1
    )


def _is_empty(root: Node) -> bool:
    return isinstance(root, ScalarNode) and root.tag == "tag:yaml.org,2002:null" and not root.value


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
        with open(source.path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
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
    builder = _Builder(source.path)
    documents: list[Document] = []
    index = 0
    try:
        for root in yaml.compose_all(text, Loader=_Loader):
            if root is not None and not _is_empty(root):
                doc = builder.document(root, source.layer, index)
                if doc is not None:
                    documents.append(doc)
            index += 1
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
        builder.diagnostics.append(
            Diagnostic.at("yaml-syntax", message, place, hint=_syntax_hint(problem))
        )
    except yaml.YAMLError as exc:  # reader errors (control characters) carry no mark
        builder.diagnostics.append(
            Diagnostic.at("yaml-syntax", f"invalid YAML: {exc}", Place(source.path, 1, 1))
        )
    except RecursionError:
        builder.diagnostics.append(
            Diagnostic.at("yaml-too-deep", "nesting is too deep to read", Place(source.path, 1, 1))
        )
    return ParsedFile(source, tuple(documents), tuple(builder.diagnostics), sha256)


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
