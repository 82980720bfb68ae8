"""An artifact's calls, each kept as its lines and decoded when read (see ``_decode`` for
the layout): :class:`Calls`, a call's origins (:class:`LazyOrigins`), and its start line
(:func:`start_of`), which loading reads alone (``_start``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, overload

from .._domain import BY_OP, Call, Op, Origin, OriginRow, origin_of
from .._errors import Diagnostic, InputError, JsonPath, Severity
from . import _sources

# A line of ``start``: ``[op, target, flags, templates, credentials]``. ``templates`` is
# ``[path, source, path, source, ...]`` of every templated field (``string_fields``), each
# written as ``0`` in the call's line; ``credentials`` the paths of its credentials (a
# rule of the template language, worked out when compiled); ``flags``: START_PLAIN_HTTP
# for ``allowPlainHttp: true``.
START_PLAIN_HTTP = 1
TEMPLATE_SLOT = 0  # where a template is in a call's line

# What data of another shape raises on its way through the decoder (a re-checksummed
# artifact written by hand: a null where a mapping is, lists nested past the stack...).
MALFORMED = (KeyError, TypeError, IndexError, ValueError, AttributeError, RecursionError)


def bad(path: str, message: str) -> InputError:
    return InputError([Diagnostic(Severity.ERROR, "artifact-invalid", message, file=path)])


# Where an artifact's origins table is: its layers (JSON text), and its ``files`` and
# ``origins`` lists as written. Read only when an origin is asked for (``table_of``).
TableSource = tuple[bytes, bytes, bytes]
# An artifact's origins for one call, as a registry keeps them: a tuple of strings and bytes,
# which the cyclic collector does not track (see ``_stored``): the artifact's path, the
# call's start line and line (which the registry keeps anyway), its line of sources, the
# origins table's source.
PackedOrigins = tuple[str, bytes, bytes, bytes, TableSource]

_TABLES: dict[TableSource, tuple[Any, ...]] = {}  # the last few read (a reload's, a diff's)


def table_of(source: TableSource) -> tuple[Any, ...]:
    """The origins table: ``(file, layer, layer root, overlay)`` by number. A file is a
    path, or the number of an input file. Raises one of ``MALFORMED`` for another shape."""
    table = _TABLES.get(source)  # bytes keep their hash: one pass over them, ever
    if table is None:
        layers, files, origins = (json.loads(part) for part in source)
        rows = []
        for file, layer, overlay in origins:
            path = files[file][0] if type(file) is int else file
            if type(path) is not str or type(layer) is not int or layer < 0:
                raise TypeError("an origin is [file, layer, overlay]")
            root = layers[layer] if layer < len(layers) else ""
            rows.append((path, layer, root, bool(overlay)))
        table = tuple(rows)
        if len(_TABLES) >= 4:
            _TABLES.clear()
        _TABLES[source] = table
    return table


class LazyOrigins(Mapping[JsonPath, Origin]):
    """A call's origins, decoded from its line of ``sources`` (and its own lines, which
    give most of their paths) on first use."""

    __slots__ = ("_artifact", "_built", "_payload", "_sources", "_start", "_table")

    def __init__(
        self, artifact: str, start: bytes, payload: bytes, sources: bytes, table: TableSource
    ) -> None:
        self._artifact, self._start, self._payload = artifact, start, payload
        self._sources, self._table = sources, table
        self._built: dict[JsonPath, OriginRow] | None = None

    def _rows(self) -> dict[JsonPath, OriginRow]:
        built = self._built
        if built is None:  # threads racing here each build the same table: either is kept
            try:
                call = call_of(self._start, self._payload, {})
                tokens = json.loads(self._sources)
                if not isinstance(tokens, list):
                    raise TypeError("a line of sources is a list")
                built = _sources.decode(tokens, call, table_of(self._table))
            except MALFORMED as exc:
                message = f"malformed sources in the artifact ({exc}); compile it again"
                raise bad(self._artifact, message) from None
            self._built = built
        return built

    def packed(self) -> PackedOrigins:
        return (self._artifact, self._start, self._payload, self._sources, self._table)

    def __getitem__(self, path: JsonPath) -> Origin:
        return origin_of(self._rows()[path])

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self._rows())

    def __len__(self) -> int:
        return len(self._rows())



_CHUNK = 512  # start lines decoded at once (see Calls.starts)
_ESCAPED = b"\\"  # any JSON escape: a name may be spelled with \u0061 or \/ as well

# A call's three lines: its start, the call, its sources.
Lines = tuple[bytes, bytes, bytes]


# A line of start decoded: op, target, flags, templates, credentials.
Start = tuple[str, str, int, list[Any], list[Any]]


def start_of(line: bytes) -> Start:
    """A line of ``start`` (see :data:`START_PLAIN_HTTP`), its shape checked. Raises one
    of ``MALFORMED`` for a line of another shape."""
    return _checked(json.loads(line))


def _checked(item: Any) -> Start:
    op, target, flags, templates, credentials = item
    if not (
        type(op) is str
        and type(target) is str
        and type(flags) is int
        and type(templates) is list
        and type(credentials) is list
        and len(templates) % 2 == 0
        and all(type(path) is list for path in templates[::2])
        and all(type(source) is str for source in templates[1::2])
    ):
        raise TypeError("a line of start is [op, target, flags, templates, credentials]")
    return op, target, flags, templates, credentials


def call_of(start: bytes, line: bytes, origins: Mapping[JsonPath, Origin]) -> Call:
    """The call a ``start`` line and its ``calls`` line (the payload) hold together, its
    templates back in place. Raises one of ``MALFORMED`` for lines of another shape."""
    op, target, flags, templates, _ = start_of(start)
    kind = BY_OP[Op(op)]  # a ValueError for an unknown call
    payload = filled(line, templates[::2], templates[1::2])
    return Call(kind.op, target, payload, origins, bool(flags & START_PLAIN_HTTP))


def filled(line: bytes, paths: list[Any], values: Sequence[str]) -> dict[str, Any]:
    """The payload ``line`` holds, each of ``values`` at its path in place of the slot
    there (a template, or what it rendered). Raises one of ``MALFORMED`` for a line of
    another shape, or a path that does not lead to a slot."""
    payload = json.loads(line)
    if not isinstance(payload, dict) or len(paths) != len(values):
        raise TypeError("the payload is not a mapping with a slot for each template")
    for path, value in zip(paths, values, strict=True):  # decoded for this read: in place
        *parents, last = path
        node = payload
        for part in parents:
            node = node[part]
        slot = node[last]
        if type(slot) is not int or slot != TEMPLATE_SLOT:
            raise ValueError("a template's place in the call does not hold its slot")
        node[last] = value
    return payload


class Calls(Sequence[Call]):
    """An artifact's calls, each decoded from its lines whenever it is read: nothing of a
    call is kept but its lines' bytes, which the cyclic collector does not track (a
    registry is built in one pass over them, its payloads packed: see ``_stored``). A line
    that does not decode raises :class:`InputError` (``artifact-invalid``) where it is
    read; only an artifact re-checksummed by hand has one. ``current``: written by this
    flue-decl, whose compile held it to today's rules (see ``_start``); ``clear``: the
    indexes of the calls whose line holds a literal baseUrl that may send in clear, or an
    escape that may spell one."""

    __slots__ = ("_lines", "_path", "_table", "clear", "current")

    def __init__(
        self,
        path: str,
        lines: list[Lines],
        table: TableSource,
        current: bool = False,
        clear: frozenset[int] = frozenset(),
    ) -> None:
        self._path, self._lines, self._table = path, lines, table
        self.current, self.clear = current, clear

    @property
    def path(self) -> str:
        return self._path

    @property
    def table(self) -> TableSource:
        return self._table

    def lines(self) -> list[Lines]:
        """Every call's lines, in order (read, never changed)."""
        return self._lines

    def starts(self) -> Iterator[tuple[Lines, Start]]:
        """Every call's lines with its start line decoded (see :func:`start_of`). A few
        hundred lines are decoded in one ``json.loads`` (a third of the time of one call
        each), which holds the GIL for a fraction of a millisecond."""
        lines = self._lines
        for at in range(0, len(lines), _CHUNK):
            chunk = lines[at : at + _CHUNK]
            try:
                items = json.loads(b"[" + b",".join([start for start, _, _ in chunk]) + b"]")
                if len(items) != len(chunk):
                    raise ValueError("a line of start is not one item")
                starts = list(map(_checked, items))
            except MALFORMED as exc:
                message = f"malformed start line in the artifact ({exc})"
                raise bad(self._path, message) from None
            yield from zip(chunk, starts, strict=True)

    def call(self, lines: Lines) -> Call:
        """The call of one of :meth:`lines`."""
        return next(self._decoded([lines]))[0]

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> Call: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Call, ...]: ...

    def __getitem__(self, index: int | slice) -> Call | tuple[Call, ...]:
        if isinstance(index, slice):
            return tuple(call for call, _ in self._decoded(self._lines[index]))
        return next(self._decoded([self._lines[index]]))[0]

    def __iter__(self) -> Iterator[Call]:
        return (call for call, _ in self._decoded(self._lines))

    def with_lines(self) -> Iterator[tuple[Call, bytes]]:
        """Each call with its line (its payload as JSON text, a ``0`` where each template
        is), for a registry to keep."""
        return self._decoded(self._lines)

    def containing(self, needles: Collection[bytes]) -> Iterator[Call]:
        """The calls whose lines hold one of ``needles`` (JSON text) or any escape (which
        may spell one), and only those are decoded: a superset of the calls with such a
        value, found at the cost of a search."""
        needles = (*needles, _ESCAPED)
        wanted = [
            lines for lines in self._lines if any(n in lines[0] or n in lines[1] for n in needles)
        ]
        return (call for call, _ in self._decoded(wanted))

    def of_op(self, op: Op) -> Iterator[Call]:
        """The calls of ``op``, and only those decoded (with those whose start line holds
        an escape, which may spell an op otherwise)."""
        prefix = b'["' + op.value.encode() + b'",'
        wanted = [
            lines
            for lines in self._lines
            if lines[0].startswith(prefix) or _ESCAPED in lines[0]
        ]
        return (call for call, _ in self._decoded(wanted) if call.op == op)

    def __repr__(self) -> str:
        return f"Calls({len(self._lines)} from {self._path})"

    def _decoded(self, lines: list[Lines]) -> Iterator[tuple[Call, bytes]]:
        # Line by line, never a chunk of lines joined: a registry keeps a call's line and
        # decodes it alone when read, so a line must be one call by itself (a forged
        # artifact could split calls across lines that decode only when joined).
        for start, line, sources in lines:
            try:
                origins = LazyOrigins(self._path, start, line, sources, self._table)
                call = call_of(start, line, origins)
            except MALFORMED as exc:
                raise bad(self._path, f"malformed call in the artifact ({exc})") from None
            yield call, line
            del call  # nothing of a call outlives its reader's use of it
