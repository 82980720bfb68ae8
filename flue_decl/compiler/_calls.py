"""Entities to the ordered registry calls, each field keeping its origin.

Calls come in the order of the kinds' table (every ``registerApiProvider``, then
``registerProvider``, then ``configureProvider``), each kind in document order (the place
of an entity's first document). Templates stay unrendered: a call is rendered against an
environment only when a registry is built from it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._domain import (
    ALLOW_PLAIN_HTTP,
    CALL_ORDER,
    KINDS,
    OWN_KEYS,
    Call,
    OriginRow,
    Origins,
    field_label,
    get_path,
    place_of,
)
from .._errors import Diagnostic, JsonPath
from .._urls import is_blank_key
from ..templates import credential_carriers, is_template, literal_key_in
from ._layer import Entity
from ._places import LatePlaces


def _normalise(value: Any) -> Any:
    """``value`` as JavaScript reads it: one number type, so 8192.0 is 8192. What has no
    such number is the entity's own object, not a copy (a copy of every payload was a
    seventh of a 10,000-file compile's memory); nothing changes either after compiling."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        changed = None if type(value) is dict else dict(value)  # a plain dict, whatever held it
        for key, item in value.items():
            new = _normalise(item)
            if new is not item:
                changed = changed if changed is not None else dict(value)
                changed[key] = new
        return value if changed is None else changed
    if isinstance(value, list):
        items = [_normalise(item) for item in value]
        same = type(value) is list and all(a is b for a, b in zip(items, value, strict=True))
        return value if same else items
    return value


def compile_entities(entities: Sequence[Entity], layer_roots: Sequence[str]) -> tuple[Call, ...]:
    """The calls of schema-valid ``entities``, in call order."""
    calls = []
    for entity in sorted(entities, key=lambda e: (CALL_ORDER[e.kind], e.order)):
        kind = KINDS[entity.kind]
        skip = (*OWN_KEYS, kind.identity)
        payload = {k: _normalise(v) for k, v in entity.data.items() if k not in skip}
        allow = entity.data.get(ALLOW_PLAIN_HTTP) is True
        rows = _Rows(entity, tuple(layer_roots))
        calls.append(Call(kind.op, entity.key, payload, Origins(rows), allow))
    return tuple(calls)


class _Rows(Mapping[JsonPath, OriginRow]):
    """A call's origin rows, made from its entity's places whenever they are read and not
    kept (but the last call's each thread read: a reader goes through one call's at a time,
    and threads reading different calls do not evict each other's): a row for every field
    of every call held at once took a quarter of a compile's memory."""

    __slots__ = ("__weakref__", "_entity", "_roots")

    def __init__(self, entity: Entity, roots: tuple[str, ...]) -> None:
        self._entity, self._roots = entity, roots

    def __getitem__(self, path: JsonPath) -> OriginRow:
        return _rows(self)[path]

    def __contains__(self, path: object) -> bool:
        return path in _rows(self)

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(_rows(self))

    def __len__(self) -> int:
        return len(_rows(self))

    def forget(self) -> None:
        """The entity's places made for these rows, unset (see ``LatePlaces.forget``)."""
        if _last.rows is not None and _last.rows[0]() is self:
            _last.rows = None
        for places in (self._entity.places, *(d.places for d in self._entity.documents)):
            if isinstance(places, LatePlaces):
                places.forget()


class _Last(threading.local):
    # The rows this thread read last, and whose: by a weak reference, so that a thread that
    # once read origins does not keep a compiled tree (its files' texts) alive for good.
    rows: tuple[weakref.ref[_Rows], dict[JsonPath, OriginRow]] | None = None


_last = _Last()


def _rows(of: _Rows) -> dict[JsonPath, OriginRow]:
    last = _last.rows
    if last is not None and last[0]() is of:
        return last[1]
    entity, roots = of._entity, of._roots
    first = entity.documents[0]
    rows: dict[JsonPath, OriginRow] = {}
    for path, spot, who in entity.places.items():
        doc = entity.documents[who]
        rows[path] = (*spot, doc.layer, roots[doc.layer], doc is not first)
    _last.rows = (weakref.ref(of), rows)
    return rows


def literal_secrets(calls: Sequence[Call]) -> list[Diagnostic]:
    """Literal keys and credentials, also written inside a template (``{{ 'sk-...' }}``, a
    default that looks like a key): an artifact must never carry them."""
    out = []
    for call in calls:
        for path in credential_carriers(call.kind.name, call.payload):
            value = get_path(call.payload, path)
            literal = not is_blank_key(value) and not is_template(value)
            inside = is_template(value) and literal_key_in(path, value) is not None
            if literal or inside:
                how = "is written literally" if literal else "holds a literal key in its template"
                out.append(
                    Diagnostic.at(
                        "literal-secret",
                        f"{field_label(path)} of `{call.target}` {how}; the "
                        "compiled artifact cannot carry it",
                        place_of(call, path),
                        path,
                        hint="write it as a template, e.g. {{ env.PROVIDER_API_KEY }}",
                    )
                )
    return out
