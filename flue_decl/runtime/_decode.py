"""Reading a compiled artifact back: its layout, checksum and signature, and its calls.

The layout (written by ``_artifact.artifact_text``): a JSON object whose last two members
are ``calls`` and ``sources``, each a list written one item per line; the n-th line of
``sources`` holds the n-th call's fields. Decoding works line by line (:class:`Calls`):
a call is decoded from its line whenever it is read, and its sources stay that line's
bytes until its origins are asked for (a service rarely does: only to explain a field or
report an error). Nothing of the decoded calls outlives the pass that reads them: a
registry keeps its payloads packed (``_stored``), so a reload leaves no new objects for
the cyclic collector to traverse in every full collection that stalls request threads,
and ``json.loads`` never holds the GIL for more than one call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, overload

from .._domain import Call, Origin, OriginRow, origin_of
from .._errors import Diagnostic, InputError, JsonPath, Severity
from . import _sources

FORMAT = "flue-decl-artifact"
VERSION = 3  # 2: compact sources against an origins table, one call per line; 3: paths
# the call gives left out of its sources (``_sources``)

# The checksum covers the artifact's own bytes with the checksum field zeroed: verifying
# it is one hash over the file, not a re-encoding of every call.
ZEROED = "sha256:" + "0" * 64
_INTEGRITY = re.compile(rb'"integrity": "sha256:([0-9a-f]{64})"')
_ZEROED_FIELD = f'"integrity": "{ZEROED}"'.encode()
# A signed artifact has an HMAC-SHA256 of that checksum on the next line, zeroed as well
# when the checksum is computed: the key authenticates every byte through it.
ZEROED_SIGNATURE = "hmac-sha256:" + "0" * 64
_SIGNED = re.compile(
    rb'"integrity": "sha256:[0-9a-f]{64}",\n  "signature": "hmac-sha256:([0-9a-f]{64})"'
)
_ZEROED_SIGNED = f'"integrity": "{ZEROED}",\n  "signature": "{ZEROED_SIGNATURE}"'.encode()
# The last two members, each on a line of its own.
_CALLS = b'\n  "calls": '
_SOURCES = b'\n  "sources": '
# What data of another shape raises on its way through the decoder (a re-checksummed
# artifact written by hand: a null where a mapping is, lists nested past the stack...).
_MALFORMED = (KeyError, TypeError, IndexError, ValueError, AttributeError, RecursionError)


def key_bytes(key: str | bytes) -> bytes:
    """A signing key's bytes: a string's UTF-8 (an environment value's own bytes, even
    those that are not UTF-8). Raises TypeError for anything else, ValueError if empty."""
    if isinstance(key, str):
        data = key.encode("utf-8", "surrogateescape")
    elif isinstance(key, bytes | bytearray):
        data = bytes(key)
    else:
        raise TypeError(f"a signing key is a str or bytes, not {type(key).__name__}")
    if not data:
        raise ValueError("an empty key signs nothing")
    return data


def signature(key: bytes, digest: str) -> str:
    return hmac.new(key, b"flue-decl-artifact\0" + digest.encode("ascii"), "sha256").hexdigest()


def _verify(raw: bytes) -> tuple[str, str | None] | None:
    """``(checksum, signature or None)`` if the bytes match their checksum, else None."""
    match = _INTEGRITY.search(raw)  # the first occurrence: it is written before the calls
    if match is None:
        return None
    signed = _SIGNED.match(raw, match.start())
    digest = hashlib.sha256(raw[: match.start()])
    digest.update(_ZEROED_SIGNED if signed else _ZEROED_FIELD)
    digest.update(memoryview(raw)[(signed or match).end() :])
    checksum = match.group(1).decode("ascii")
    if digest.hexdigest() != checksum:
        return None
    return checksum, signed.group(1).decode("ascii") if signed else None


def _bad(path: str, message: str) -> InputError:
    return InputError([Diagnostic(Severity.ERROR, "artifact-invalid", message, file=path)])


_SPACE = b" \t\r\n"


def _items(raw: bytes, start: int, stop: int) -> list[bytes] | None:
    """The items of the list ``raw[start:stop]`` (whitespace around it aside), written one
    per line (``[\n    a,\n    b\n  ]``), each as its line's bytes (the block itself is
    never copied: an artifact's lists are most of its size); None for any other layout."""
    while start < stop and raw[start] in _SPACE:
        start += 1
    while stop > start and raw[stop - 1] in _SPACE:
        stop -= 1
    if stop - start == 2 and raw.startswith(b"[]", start):
        return []
    if not (raw.startswith(b"[\n", start) and raw.endswith(b"\n  ]", start, stop)):
        return None
    lines, at, end = [], start + 2, stop - 4
    while at <= end:
        newline = raw.find(b"\n", at, end)
        if newline == -1:
            newline = end
        cut = newline - 1 if newline > at and raw[newline - 1] == 0x2C else newline  # ","
        lines.append(raw[at:cut])
        at = newline + 1
    return lines


# An artifact's origins for one call, as a registry keeps them: a tuple of strings and bytes,
# which the cyclic collector does not track (see ``_stored``): the artifact's path, the
# call's line (which the registry keeps anyway), its line of sources, the origins table.
PackedOrigins = tuple[str, bytes, bytes, tuple[Any, ...]]


class LazyOrigins(Mapping[JsonPath, Origin]):
    """A call's origins, decoded from its line of ``sources`` (and its own line, which
    gives most of their paths) on first use."""

    __slots__ = ("_artifact", "_built", "_call", "_line", "_table")

    def __init__(self, artifact: str, call: bytes, line: bytes, table: tuple[Any, ...]) -> None:
        self._artifact, self._call, self._line, self._table = artifact, call, line, table
        self._built: dict[JsonPath, OriginRow] | None = None

    def _rows(self) -> dict[JsonPath, OriginRow]:
        built = self._built
        if built is None:  # threads racing here each build the same table: either is kept
            try:
                call = Call.from_replay(json.loads(self._call), {})
                tokens = json.loads(self._line)
                if not isinstance(tokens, list):
                    raise TypeError("a line of sources is a list")
                built = _sources.decode(tokens, call, self._table)
            except _MALFORMED as exc:
                message = f"malformed sources in the artifact ({exc}); compile it again"
                raise _bad(self._artifact, message) from None
            self._built = built
        return built

    def packed(self) -> PackedOrigins:
        return (self._artifact, self._call, self._line, self._table)

    def __getitem__(self, path: JsonPath) -> Origin:
        return origin_of(self._rows()[path])

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self._rows())

    def __len__(self) -> int:
        return len(self._rows())


def decode_artifact(
    raw: bytes,
    path: str,
    *,
    verify_key: str | bytes | None = None,
) -> Calls:
    """The calls of an artifact's bytes (``read_artifact``), decoded as they are read (see
    :class:`Calls`); ``path`` names it in errors."""

    def bad(message: str) -> InputError:
        return _bad(path, message)

    # The checksum (verified before anything is used) guarantees the layout split here.
    split = raw.rfind(_SOURCES)
    at = raw.rfind(_CALLS, 0, split) if split != -1 else -1
    head_end = raw.rfind(b",", 0, at) if at != -1 else -1
    try:
        data = json.loads(raw[:head_end] + b"\n}" if head_end != -1 else raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError too
        raise bad(f"cannot read the artifact: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("not a flue-decl artifact (no `format: flue-decl-artifact`)")
    if data.get("version") != VERSION:
        raise bad(
            f"artifact version {data.get('version')!r} is not supported (expected {VERSION}); "
            "compile it again with this flue-decl"
        )
    verified = _verify(raw)
    if verified is None:
        raise bad(
            "integrity check failed: the file does not match its checksum "
            "(truncated or edited by hand?); compile it again"
        )
    if verify_key is not None:
        _check_signature(verified, verify_key, bad)
    if head_end == -1:
        raise bad("malformed artifact (no `calls` and `sources` members at the end)")
    call_lines = _items(raw, at + len(_CALLS), raw.rfind(b",", 0, split))
    close = raw.rfind(b"}")  # the object's: only whitespace may follow it
    source_lines = _items(raw, split + len(_SOURCES), close)
    if call_lines is None or source_lines is None or raw[close + 1 :].strip(_SPACE):
        raise bad("malformed artifact (the calls and sources are not one per line)")
    if len(call_lines) != len(source_lines):
        raise bad("malformed sources in the artifact (one line of fields per call expected)")
    try:
        layers = data.get("inputs", {}).get("layers", [])
        table = tuple(
            (file, layer, layers[layer] if layer < len(layers) else "", bool(overlay))
            for file, layer, overlay in data.get("origins", [])
        )
    except _MALFORMED as exc:
        raise bad(f"malformed call in the artifact ({exc})") from None
    return Calls(path, list(zip(call_lines, source_lines, strict=True)), table)


def _check_signature(
    verified: tuple[str, str | None],
    verify_key: str | bytes,
    bad: Callable[[str], InputError],
) -> None:
    try:
        key = key_bytes(verify_key)
    except ValueError:
        raise bad("the verification key is empty: it verifies nothing") from None
    checksum, signed = verified
    if signed is None:
        raise bad("the artifact is not signed; compile it with --sign-key-env")
    if not hmac.compare_digest(signed, signature(key, checksum)):
        raise bad(
            "the signature does not match: signed with another key, or edited and "
            "checksummed again after signing"
        )


_ESCAPED = b"\\"  # any JSON escape: a name may be spelled with \u0061 or \/ as well


class Calls(Sequence[Call]):
    """An artifact's calls, each decoded from its line whenever it is read: nothing of a
    call is kept but its two lines' bytes, which the cyclic collector does not track (a
    registry is built in one pass over them, its payloads packed: see ``_stored``). A line
    that does not decode raises :class:`InputError` (``artifact-invalid``) where it is
    read; only an artifact re-checksummed by hand has one."""

    __slots__ = ("_lines", "_path", "_table")

    def __init__(self, path: str, lines: list[tuple[bytes, bytes]], table: tuple[Any, ...]):
        self._path, self._lines, self._table = path, lines, table

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
        """Each call with its line (the call as JSON text), for a registry to keep."""
        return self._decoded(self._lines)

    def containing(self, needles: Collection[bytes]) -> Iterator[Call]:
        """The calls whose line holds one of ``needles`` (JSON text) or any escape (which
        may spell one), and only those are decoded: a superset of the calls with such a
        value, found at the cost of a search."""
        needles = (*needles, _ESCAPED)
        wanted = [pair for pair in self._lines if any(n in pair[0] for n in needles)]
        return (call for call, _ in self._decoded(wanted))

    def __repr__(self) -> str:
        return f"Calls({len(self._lines)} from {self._path})"

    def _decoded(self, lines: list[tuple[bytes, bytes]]) -> Iterator[tuple[Call, bytes]]:
        # Line by line, never a chunk of lines joined: a registry keeps a call's line and
        # decodes it alone when read, so a line must be one call by itself (a forged
        # artifact could split calls across lines that decode only when joined).
        path, table = self._path, self._table
        for line, sources in lines:
            try:
                origins = LazyOrigins(path, line, sources, table)
                call = Call.from_replay(json.loads(line), origins)
            except _MALFORMED as exc:
                raise _bad(path, f"malformed call in the artifact ({exc})") from None
            yield call, line
            del call  # nothing of a call outlives its reader's use of it
