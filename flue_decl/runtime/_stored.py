"""Registrations and settings as a registry keeps them, by provider ID.

A payload from an artifact is kept as the artifact's line for its call, with the rendered
values and credential paths beside it as JSON text; one from JSON data handed over
(``copy=False``) as JSON text. The cyclic collector tracks neither strings nor bytes, so a
registry of 10,000 calls adds nothing to the full collections that stall request threads
while a reload builds the next one (a dict per payload, its nested dicts and a ``Secret``
per key would be traversed by every one; even a tuple of tuples is, until a collection
has looked at it, and a reload that promotes thousands of them to the oldest generation
triggers full collections). A payload is decoded, its secrets wrapped, when read, and the
last :data:`DECODED` reads are remembered. A payload given in code is kept as given
(copied, secrets wrapped): it may hold what JSON cannot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from .._domain import Origin, OriginRow, Origins
from .._errors import JsonPath
from ._keys import protect
from ._lines import MALFORMED, LazyOrigins, PackedOrigins, bad, filled, start_of
from ._memo import Memo

DECODED = 256  # payloads kept decoded: a service's hot providers, a few KB each

# ``[credential paths, payload]`` as JSON text; or an artifact's line of the call's payload
# (JSON text, a slot where each template is) and ``[credential paths, [[path, rendered
# value], ...]]`` as JSON text, or its line, its start line and its templates' values in
# order: the lines are kept, not written again.
Packed = str | tuple[bytes, str] | tuple[bytes, bytes, tuple[str, ...]]
# A call's origins as a registry keeps them: see stored_origins.
StoredOrigins = dict[JsonPath, OriginRow] | PackedOrigins


class Kept(NamedTuple):
    """A call for the registry to keep as its line (``Registry._keep``)."""

    op: str
    target: str
    line: bytes
    start: bytes
    values: tuple[str, ...]  # its templates rendered, in order
    origins: PackedOrigins
    plain_http: bool


class Payloads(Mapping[str, Mapping[str, Any]]):
    """Provider ID -> payload (secrets as ``Secret``). Reads take no lock; writes are made
    by the owning registry under its rules (see ``Registry``): a payload replaced by
    :meth:`put` is never read from here once it has returned."""

    __slots__ = ("_decoded", "_entries")

    def __init__(self, entries: Mapping[str, dict[str, Any] | Packed] | None = None) -> None:
        self._entries: dict[str, dict[str, Any] | Packed] = dict(entries or {})
        self._decoded: Memo[dict[str, Any]] = Memo(DECODED)

    def put(
        self,
        provider_id: str,
        payload: Mapping[str, Any],
        credentials: frozenset[JsonPath],
        *,
        copy: bool = True,
    ) -> None:
        """Keep ``payload`` for ``provider_id``. ``copy=False``: JSON data that nothing
        else holds (decoded from an artifact), kept packed."""
        entry: dict[str, Any] | Packed
        if copy:
            entry = protect(payload, credentials, copy=True)
        else:
            try:
                paths = sorted(credentials, key=repr)  # str and int parts: no < between
                text = json.dumps([paths, payload], separators=(",", ":"))
            except (TypeError, ValueError):  # not JSON after all: kept as given
                entry = protect(payload, credentials, copy=False)
            else:
                entry = text
        self._entries[provider_id] = entry
        # After the new entry is in place: a decode of the old one is not remembered.
        self._decoded.invalidate()

    def put_line(
        self,
        provider_id: str,
        line: bytes,
        credentials: frozenset[JsonPath],
        rendered: list[tuple[JsonPath, str]],
    ) -> None:
        """Keep the payload ``line`` holds (an artifact's: JSON text, a slot where each
        template is), with the ``rendered`` values at their paths."""
        paths = sorted(credentials, key=repr)
        self._entries[provider_id] = (line, json.dumps([paths, rendered]))
        self._decoded.invalidate()

    def keep(self, provider_id: str, line: bytes, start: bytes, values: tuple[str, ...]) -> None:
        """Keep the payload ``line`` holds (an artifact's), with ``values``: its templates'
        (its ``start`` line's) rendered, in order. For a registry being built, which
        nothing has read: no decoded payload to forget."""
        self._entries[provider_id] = (line, start, values)

    def copy(self) -> Payloads:
        return Payloads(self._entries)

    def __getitem__(self, provider_id: str) -> Mapping[str, Any]:
        entry = self._entries[provider_id]
        if isinstance(entry, dict):
            return entry
        decoded = self._decoded.get(provider_id)
        if decoded is None:
            version = self._decoded.version  # before the entry is read (see Memo)
            entry = self._entries[provider_id]
            if isinstance(entry, dict):
                return entry
            try:
                decoded = _unpacked(entry)
            except MALFORMED as exc:  # an artifact's line, broken and re-checksummed by hand
                message = f"malformed call of `{provider_id}` in the artifact ({exc})"
                raise bad("<artifact>", message + "; compile it again") from None
            self._decoded.put(provider_id, decoded, version)
        return decoded

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self._entries

    def __repr__(self) -> str:
        return f"Payloads({len(self._entries)} providers)"


def _unpacked(entry: Packed) -> dict[str, Any]:
    """The payload ``entry`` holds, its secrets wrapped."""
    if not isinstance(entry, tuple):
        paths, payload = json.loads(entry)
        return protect(payload, frozenset(tuple(path) for path in paths), copy=False)
    if len(entry) == 3:
        line, start, values = entry
        _, _, _, templates, paths = start_of(start)
        payload = filled(line, templates[::2], values)
    else:
        line, extra = entry
        paths, rendered = json.loads(extra)
        payload = filled(line, [path for path, _ in rendered], [v for _, v in rendered])
    return protect(payload, frozenset(tuple(path) for path in paths), copy=False)


def stored_origins(
    origins: Mapping[JsonPath, Origin] | None,
) -> StoredOrigins:
    """A call's origins as a registry keeps them: an artifact's packed (decoded only if
    asked for), others as their rows (tuples of plain values)."""
    if isinstance(origins, LazyOrigins):
        return origins.packed()
    if isinstance(origins, Origins):
        return origins.rows()
    return {
        path: (o.place.file, o.place.line, o.place.column, o.layer, o.layer_root, o.overlay)
        for path, o in (origins or {}).items()
    }


def origins_of(stored: StoredOrigins) -> Mapping[JsonPath, Origin]:
    """The origins :func:`stored_origins` kept."""
    return LazyOrigins(*stored) if isinstance(stored, tuple) else Origins(stored)
