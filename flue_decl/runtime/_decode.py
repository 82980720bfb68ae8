"""Reading a compiled artifact back: its layout, checksum and signature, and its calls.

The layout (written by ``_artifact.artifact_text``): a JSON object whose last five members
are lists written one item per line. ``files``: ``[path, sha256]`` of every input file;
``origins``: ``[file, layer, overlay]``, a file by its number in ``files`` (or its path);
then ``start``, ``calls`` and ``sources``, the n-th line of each about the n-th call.
``start`` holds what loading needs of a call without reading the rest (see
``_lines.START_PLAIN_HTTP``): its op and target, flags, its templates with their paths,
and its credential paths; ``calls`` its payload (the registration, the settings, or an
ApiProvider's fields), a ``0`` where each template is; ``sources`` where its fields were
written. Decoding works line by line (``_lines.Calls``): a call is decoded from its lines
whenever it is read, and its sources (with the files and origins) stay bytes until its
origins are asked for (a service rarely does: only to explain a field or report an
error). Nothing of the decoded calls outlives the pass that reads them: a registry keeps
its payloads packed (``_stored``), so a reload leaves no new objects for the cyclic
collector to traverse in every full collection that stalls request threads, and
``json.loads`` never holds the GIL for more than a few hundred lines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable

from .._errors import InputError
from .._version import __version__
from ._lines import MALFORMED, Calls
from ._lines import bad as refused

FORMAT = "flue-decl-artifact"
GENERATOR = f"flue-decl {__version__}"
VERSION = 4  # 2: compact sources against an origins table, one call per line; 3: paths
# the call gives left out of its sources (``_sources``); 4: the ``start`` lines

# A literal baseUrl that may send in clear: any but https:// (and a template's slot), or any
# escape (which may spell the key or the scheme). The transport rule reads the calls whose
# lines hold one (``_start``), found in two searches of the artifact's calls (a URL edited
# by hand too).
_LITERAL_URL = re.compile(rb'"baseUrl"(?!:"https://|:0[,}])')  # and a search for "\\"

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
# The last five members, each on a line of its own.
_FILES = b'\n  "files": '
_ORIGINS = b'\n  "origins": '
_START = b'\n  "start": '
_CALLS = b'\n  "calls": '
_SOURCES = b'\n  "sources": '


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



_SPACE = b" \t\r\n"


_OPEN, _SEPARATOR, _CLOSE = b"[\n    ", b",\n    ", b"\n  ]"


def _items(raw: bytes, start: int, stop: int) -> list[bytes] | None:
    """The items of the list ``raw[start:stop]`` (whitespace around it aside), written one
    per line (``[\n    a,\n    b\n  ]``), each as its line's bytes; None for any other
    layout. Split in one call: a Python loop over 60,000 lines took 30 ms."""
    while start < stop and raw[start] in _SPACE:
        start += 1
    while stop > start and raw[stop - 1] in _SPACE:
        stop -= 1
    if stop - start == 2 and raw.startswith(b"[]", start):
        return []
    if not (raw.startswith(_OPEN, start) and raw.endswith(_CLOSE, start, stop)):
        return None
    block = raw[start + len(_OPEN) : stop - len(_CLOSE)]
    lines = block.split(_SEPARATOR)
    # Every line break separates two items (JSON text holds none of its own).
    return lines if block.count(b"\n") == len(lines) - 1 else None



def decode_artifact(
    raw: bytes,
    path: str,
    *,
    verify_key: str | bytes | None = None,
) -> Calls:
    """The calls of an artifact's bytes (``read_artifact``), decoded as they are read (see
    :class:`Calls`); ``path`` names it in errors."""

    def bad(message: str) -> InputError:
        return refused(path, message)

    # The checksum (verified before anything is used) guarantees the layout split here.
    split = raw.rfind(_SOURCES)
    at = raw.rfind(_CALLS, 0, split) if split != -1 else -1
    start = raw.rfind(_START, 0, at) if at != -1 else -1
    origins = raw.rfind(_ORIGINS, 0, start) if start != -1 else -1
    files = raw.rfind(_FILES, 0, origins) if origins != -1 else -1
    head_end = raw.rfind(b",", 0, files) if files != -1 else -1
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
        raise bad("malformed artifact (no `files`, `origins`, `start`, `calls` and `sources`)")
    start_lines = _items(raw, start + len(_START), raw.rfind(b",", 0, at))
    call_lines = _items(raw, at + len(_CALLS), raw.rfind(b",", 0, split))
    close = raw.rfind(b"}")  # the object's: only whitespace may follow it
    source_lines = _items(raw, split + len(_SOURCES), close)
    if (
        start_lines is None
        or call_lines is None
        or source_lines is None
        or raw[close + 1 :].strip(_SPACE)
    ):
        raise bad("malformed artifact (the calls and sources are not one per line)")
    if not len(start_lines) == len(call_lines) == len(source_lines):
        raise bad("malformed sources in the artifact (one line of each per call expected)")
    try:
        layers = json.dumps(data["inputs"]["layers"]).encode()
    except MALFORMED as exc:
        raise bad(f"malformed inputs in the artifact ({exc})") from None
    # Read when an origin is first asked for (``_lines.table_of``), not at load.
    table = (
        layers,
        raw[files + len(_FILES) : raw.rfind(b",", 0, origins)],
        raw[origins + len(_ORIGINS) : raw.rfind(b",", 0, start)],
    )
    lines = list(zip(start_lines, call_lines, source_lines, strict=True))
    clear: frozenset[int] = frozenset()
    if _LITERAL_URL.search(raw, at, split) is not None or raw.find(b"\\", at, split) != -1:
        clear = frozenset(
            i for i, line in enumerate(call_lines) if b"\\" in line or _LITERAL_URL.search(line)
        )
    return Calls(path, lines, table, data.get("generator") == GENERATOR, clear)


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


