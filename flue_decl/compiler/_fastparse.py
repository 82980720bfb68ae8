"""The common file, read fast: libyaml composes its nodes in C, one walk builds the values
and places, and any file that needs more than that is read again by the event pass
(``_events``), which alone words problems.

The event pass costs several µs an event in Python; most provider files are plain
mappings, sequences, strings and numbers, with no anchor, alias, tag or problem, and for
those the C composer and a walk of its nodes give the same documents in 60% of the time
(bench/notes.md). The two agree exactly on every file this one accepts: the same values,
places, typed texts and charges to the tree's budget (``_budget``), proved against the
event pass on every fixture and on generated files (tests/unit/compiler/test_fastparse.py).
So this pass accepts only files that cannot differ:

- no ``&``, ``*`` or ``!`` anywhere in the text: no anchor, alias or tag (a string that
  holds one of them is read by the event pass, as it would have been anyway);
- at most ``MAX_BYTES``: the composed nodes of a document are held at once (~350 bytes a
  node, ~6 MB for the densest file this size), so a larger file is left to the event pass,
  which holds none;
- a libyaml with a nesting limit (0.2.6 or later): C composes recursively;
- anything the event pass would report (a duplicate or non-string key, a refused
  number, a merge key, nesting past ``MAX_DEPTH``, a budget spent, invalid YAML) makes
  this pass give up on the file, unreported.
"""

from __future__ import annotations

from array import array
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode

from .._errors import JsonPath
from ._budget import (
    COLLECTION,
    DEPTH,
    DOCUMENT,
    ENTRY,
    FIRST,
    ITEM,
    LOGGED,
    MAX_NODES_PER_FILE,
    NUMBER,
    TYPED,
    TreeBudget,
)
from ._document import Document
from ._frames import _NOTHING_BROKEN, Shared
from ._lazyplaces import Source, lazy_document
from ._places import _NO_MAPS, _NO_SEQS, _NO_TEXTS, _TEXT, Places, Text, place_at
from ._scalars import (
    _PLAIN_TAGS,
    NULL_TAG,
    SCALAR_TAGS,
    STR_TAG,
    construct,
    implicit_text,
    resolve_tag,
)
from ._tables import SMALL, Tables

MAX_BYTES = 32 * 1024  # a document's nodes held at once: up to ~6 MB
_INT_TAG = "tag:yaml.org,2002:int"
MAX_DEPTH = 64  # as _events: a collection this deep is the event pass's to refuse

_CLoader: Any = getattr(yaml, "CSafeLoader", None)


def _nesting_limited() -> bool:
    try:
        from yaml import _yaml

        return bool(_yaml.get_version() >= (0, 2, 6))
    except (ImportError, AttributeError):
        return False


ENABLED = _CLoader is not None and _nesting_limited()


class _Loader(_CLoader or object):  # type: ignore[misc]
    """libyaml's composer, leaving tags to the walk: a file this pass reads has no
    explicit tag, so a scalar's tag follows from its style and text alone (:func:`_tag`),
    and the walk looks that up more cheaply than C calls back for every node."""

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        return _UNRESOLVED

    def descend_resolver(self, *_: object) -> None:
        pass  # there are no path resolvers (see resolve_tag)

    def ascend_resolver(self) -> None:
        pass


_UNRESOLVED = "?"
Read = tuple[list[Document], int, int]  # documents, charge, need (see parse)


def _tag(node: ScalarNode) -> str:
    """The tag ``resolve_tag`` gives the scalar: quoted or block is a string (its style is
    ``''`` only when plain)."""
    return STR_TAG if node.style else _PLAIN_TAGS.get(node.value) or resolve_tag(node.value, True)


class _Slow(Exception):
    """The file is the event pass's: it holds something this pass does not read."""


def wanted(text: str) -> bool:
    """Whether ``text`` may be read by this pass (it may still give up on it)."""
    return ENABLED and len(text) <= MAX_BYTES and not any(c in text for c in "&*!")


def parse(text: str, file: str, layer: int, tree: TreeBudget) -> Read | None:
    """``text``'s documents, what they charge the tree and the most they asked of it at one
    check (``need``: ``tree.used`` could have been ``tree.limit - need`` without a
    refusal), or None: the event pass must read it. The caller adds the charge to ``tree``
    (whose strings and numbers this shares)."""
    if not wanted(text):
        return None
    read = _read(text, file, layer, tree, source_of(text, file, layer, tree))
    return None if read is None else (read[0], read[1].charge, read[1].need)


def source_of(text: str, file: str, layer: int, tree: TreeBudget) -> Source:
    """``text`` kept to walk again for its documents' places (``_lazyplaces``)."""
    return Source(text, file, layer, tree, _placed)


def _placed(source: Source, tree: TreeBudget) -> list[Document]:
    again = _read(source.text, source.file, source.layer, tree, None)
    assert again is not None  # the same text walks the same way
    return again[0]


def _read(
    text: str, file: str, layer: int, tree: TreeBudget, source: Source | None
) -> tuple[list[Document], _Walk] | None:
    """As :func:`parse`, with the walk (what it charged, and ``need``); the places left for
    ``source`` to walk again when read, or made now without one."""
    walk = _Walk(file, tree, source)
    documents: list[Document] = []
    loader = None
    try:
        loader = _Loader(text)  # a lone surrogate in the text fails here, as UTF-8
        index = 0
        while loader.check_node():
            document = walk.document(loader.get_node(), layer, index)
            if document is not None:
                documents.append(document)
            index += 1
    except (_Slow, yaml.YAMLError, ValueError, OverflowError):
        return None  # invalid YAML, or more than this pass reads: the event pass's
    finally:
        if loader is not None:
            loader.dispose()
    return documents, walk


def _pos(node: Node) -> int:
    mark = node.start_mark
    return (mark.line + 1) << 32 | (mark.column + 1)


class _Walk:
    """One file's documents from their nodes, charged as the event pass charges them; the
    places made now, or left to ``source``."""

    def __init__(self, file: str, tree: TreeBudget, source: Source | None) -> None:
        self.file = file
        self.tree = tree
        self.source = source
        self.placed = source is None
        self.share = Shared(tree.strings)
        self.weight = 0
        self.need = 0  # the most the file asked of the tree's budget at one check
        self.nodes = 0
        self.constructor = SafeConstructor()
        self.typed_texts: dict[Text, Text] = {}

    def document(self, root: Node, layer: int, index: int) -> Document | None:
        if isinstance(root, ScalarNode) and root.value == "" and _tag(root) == NULL_TAG:
            return None  # an empty document
        self.logged = 0
        self.maps: dict[JsonPath, dict[str, int]] = {}
        self.seqs: dict[JsonPath, array[int]] = {}
        self.texts: list[Text] = []
        self.ids: dict[Text, int] = {}
        self.seq_texts: dict[JsonPath, array[int]] = {}
        self.logged += LOGGED
        self.nodes += 1
        if isinstance(root, ScalarNode):
            value, text = self.scalar(root)
            if text is not None:
                self.number(text)  # numbered, though no stage asks for a root's text
        else:
            self.weight += COLLECTION
            value = self.collection(root, ())
        self.weight += DOCUMENT
        need = self.weight + self.share.charged + self.logged
        self.need = max(self.need, need)
        if self.nodes > MAX_NODES_PER_FILE or self.tree.used + need > self.tree.limit:
            raise _Slow  # the event pass refuses it at its node
        root_place = _pos(root)
        texts = self.texts or _NO_TEXTS
        if self.source is not None:
            return lazy_document(self.source, index, root_place, value, texts)
        tables = Tables()
        for path, table in self.maps.items():
            tables[path] = (
                tuple(item for pair in table.items() for item in pair)
                if len(table) <= SMALL
                else table
            )
        places = Places(
            (self.file,),
            root_place,
            tables or _NO_MAPS,
            self.seqs or _NO_SEQS,
            texts=texts,
            seq_texts=self.seq_texts or _NO_SEQS,
        )
        start = place_at(self.file, root_place)
        return Document(self.file, layer, index, start, value, places, _NOTHING_BROKEN)

    @property
    def charge(self) -> int:
        """What the file's documents cost the tree (``_budget``)."""
        return self.weight + self.share.charged

    def number(self, text: Text) -> int:
        number = self.ids.get(text)
        if number is None:
            self.texts.append(text)
            number = self.ids[text] = len(self.texts)
        return number

    def scalar(self, node: ScalarNode) -> tuple[Any, Text | None]:
        """A scalar's value, and its typed text where one is kept (see _events.scalar)."""
        tag = _tag(node)
        if tag == STR_TAG:
            return self.share(node.value), None
        text = node.value
        if tag == _INT_TAG and len(text) < 16 and text.isdigit() and text[0] != "0":
            # Most numbers: decimal digits, read and written back the same (no text kept),
            # and within JavaScript's safe integers. `0`, `0x..`, `017` and `1_000` go on.
            self.weight += NUMBER
            return self.tree.number(int(text)), None
        kind = SCALAR_TAGS.get(tag)
        if kind is None:
            raise _Slow  # a merge key's `<<` or `=` as a value: refused there
        value, problem = construct(self.constructor, node, tag, kind)
        if problem is not None:
            raise _Slow
        if type(value) is int:
            value = self.tree.number(value)
        self.weight += TYPED.get(kind, 0)
        if implicit_text(value) == (kind, node.value):
            return value, None
        text = (kind, node.value)
        shared = self.typed_texts.get(text)
        if shared is not None:
            return value, shared
        self.weight += NUMBER + len(node.value)
        if kind in ("boolean", "null"):
            self.typed_texts[text] = text
        return value, text

    def collection(self, node: Node, path: JsonPath) -> Any:
        """A collection's value; its own place and charge are its parent's to log."""
        if len(path) >= MAX_DEPTH:
            raise _Slow
        depth = DEPTH * (len(path) + 1)
        if isinstance(node, MappingNode):
            return self.mapping(node, path, depth)
        items: list[Any] = []
        if not node.value:
            return items
        placed = self.placed
        places: array[int] = array("Q")
        if placed:
            self.seqs[path] = places
        marks: array[int] | None = None
        words, share, tags = self.share.words, self.share, _PLAIN_TAGS
        for i, child in enumerate(node.value):
            if placed:
                places.append(_pos(child))
            if type(child) is ScalarNode:
                text = child.value
                if child.style or (tags.get(text) or resolve_tag(text, True)) == STR_TAG:
                    value = words.get(text) or share(text)  # most: shared (Shared's first step)
                else:
                    value, text = self.scalar(child)
                    if text is not None:
                        number = self.number(text)
                        if placed and marks is None:  # registered where the event pass would
                            marks = self.seq_texts[path] = array("I", bytes(4 * len(node.value)))
                        if marks is not None:
                            marks[i] = number
            else:
                self.weight += COLLECTION
                value = self.collection(child, (*path, i))
            items.append(value)
        n = len(items)
        self.nodes += n
        self.logged += (LOGGED + depth) * n
        self.weight += FIRST + depth + ITEM * n
        return items

    def mapping(self, node: MappingNode, path: JsonPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not node.value:
            return out
        placed = self.placed
        table: dict[str, int] = {}
        if placed:
            self.maps[path] = table
        # `_tag(node) == STR_TAG` is spelled out below: a call for every node costs.
        words, share, tags = self.share.words, self.share, _PLAIN_TAGS
        for key_node, child in node.value:
            if type(key_node) is not ScalarNode:
                raise _Slow  # a collection key
            key = key_node.value
            if not key_node.style and (tags.get(key) or resolve_tag(key, True)) != STR_TAG:
                raise _Slow  # a non-string or merge key
            key = words.get(key) or share(key)
            if key in out:
                raise _Slow  # a duplicate key
            number = 0
            if type(child) is ScalarNode:
                text = child.value
                if child.style or (tags.get(text) or resolve_tag(text, True)) == STR_TAG:
                    value = words.get(text) or share(text)
                else:
                    value, text = self.scalar(child)
                    if text is not None:
                        number = self.number(text)
            else:
                self.weight += COLLECTION
                value = self.collection(child, (*path, key))
            if placed:
                table[key] = _pos(child) | _pos(key_node) << 64 | number << _TEXT
            out[key] = value
        n = len(out)
        self.nodes += n
        self.logged += 2 * (LOGGED + depth) * n  # each key's place and its value's
        self.weight += FIRST + depth + ENTRY * n
        return out
