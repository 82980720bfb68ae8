"""The domain: the three document kinds, the Flue calls they become, and their fields.

One table, :data:`KINDS`, says everything flue-decl knows about a kind of document: the
registry call it compiles to, the field that names it, its schema file and where the call
keeps its payload. Calls are ordered by that table (every ``registerApiProvider`` first,
then ``registerProvider``, then ``configureProvider``), each kind in document order.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ._errors import JsonPath, Place
from ._secrets import mask_payload


class Op(enum.StrEnum):
    """The registry calls of Flue's Provider API."""

    REGISTER_API_PROVIDER = "registerApiProvider"
    REGISTER_PROVIDER = "registerProvider"
    CONFIGURE_PROVIDER = "configureProvider"


class KindName(enum.StrEnum):
    """The ``kind:`` of each document: its one spelling in the code (what each becomes is
    in :data:`KINDS`)."""

    API_PROVIDER = "ApiProvider"
    PROVIDER = "Provider"
    PROVIDER_CONFIGURATION = "ProviderConfiguration"


class Kind(NamedTuple):
    """A kind of document and the call it becomes."""

    name: str  # the document's ``kind:``
    op: Op
    identity: str  # the field that names the entity: ``id``, or ``api`` for an ApiProvider
    schema: str  # its schema file in schemas/, without ``.schema.json``
    payload_key: str | None  # where replay.mjs's call shape holds the payload (None: inline)


# In call order.
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(KindName.API_PROVIDER, Op.REGISTER_API_PROVIDER, "api", "api-provider", None),
        Kind(KindName.PROVIDER, Op.REGISTER_PROVIDER, "id", "provider", "registration"),
        Kind(
            KindName.PROVIDER_CONFIGURATION,
            Op.CONFIGURE_PROVIDER,
            "id",
            "provider-configuration",
            "settings",
        ),
    )
}
BY_OP: dict[Op, Kind] = {kind.op: kind for kind in KINDS.values()}
# Keys of a document that are flue-decl's, not part of the Flue call it becomes.
# Names every JavaScript object has from Object.prototype. Flue's runtime looks provider
# IDs up in plain objects, so a provider with one of these IDs reads inherited members:
# its key lookup reads variables named `[object Object]` or `function Object() ...`.
RESERVED_IDS = frozenset(
    {
        "__proto__",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
        "constructor",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
    }
)
ALLOW_PLAIN_HTTP = "allowPlainHttp"
OWN_KEYS = ("kind", "overlay", ALLOW_PLAIN_HTTP)
CALL_ORDER: dict[str, int] = {name: rank for rank, name in enumerate(KINDS)}
_BY_NAME: dict[str, Kind] = {kind.op.value: kind for kind in KINDS.values()}


def schema_dir() -> str:
    """Where the schema files are: inside the installed package, or the checkout's
    top-level ``schemas/`` (the one source of truth, copied into the wheel)."""
    package = os.path.dirname(os.path.realpath(__file__))
    packaged = os.path.join(package, "schemas")
    return (
        packaged if os.path.isdir(packaged) else os.path.join(os.path.dirname(package), "schemas")
    )


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a field of a compiled call came from: its place, and the layer that set it."""

    place: Place
    layer: int
    layer_root: str
    overlay: bool


# An origin as plain values: (file, line, column, layer, layer_root, overlay). Every field
# of every call has one; kept as exact tuples they are invisible to CPython's cyclic
# collector (see ``_errors.Spot``), and an :class:`Origin` is made only when one is asked for.
OriginRow = tuple[str, int, int, int, str, bool]


def origin_of(row: OriginRow) -> Origin:
    file, line, column, layer, layer_root, overlay = row
    return Origin(Place(file, line, column), layer, layer_root, overlay)


class Origins(Mapping[JsonPath, Origin]):
    """A call's origins by JSON path, kept as :data:`OriginRow` tuples."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Mapping[JsonPath, OriginRow]) -> None:
        self._rows = rows

    def rows(self) -> dict[JsonPath, OriginRow]:
        """The rows, as a dict the collector stops tracking (of tuples of plain values)."""
        return dict(self._rows)

    def __getitem__(self, path: JsonPath) -> Origin:
        return origin_of(self._rows[path])

    def __contains__(self, path: object) -> bool:
        return path in self._rows

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"Origins({len(self._rows)} fields)"

    def forget(self) -> None:
        """Drop what was made to answer (a compiled call's places, made from its files
        when read): read again, it is made again. For a reader that goes through every
        call once, as the artifact's writer does."""
        forget = getattr(self._rows, "forget", None)
        if forget is not None:
            forget()


def place_of(call: Call, path: JsonPath) -> Place | None:
    """Where ``path`` of ``call`` was written, to report a problem there (an artifact's
    origins are decoded only when one is asked for)."""
    origin = call.origins.get(path)
    return origin.place if origin else None


@dataclass(frozen=True, slots=True)
class Call:
    """One registry call: ``op`` on ``target`` (a provider ID, or an api slug for
    ``registerApiProvider``) with its ``payload`` (the registration, the settings, or
    ``{"handler": ...}``) and the :class:`Origin` of every field, by JSON path.

    A payload is read, never changed in place: a compiled call's shares objects with the
    compilation's documents and entities (flue-decl itself copies along any path it
    changes); change a copy (``copy.deepcopy``, or ``dataclasses.replace`` with a new
    payload) instead."""

    op: Op
    target: str
    payload: Mapping[str, Any]
    origins: Mapping[JsonPath, Origin]
    # flue-decl's own `allowPlainHttp: true`: never part of what Flue is given.
    allow_plain_http: bool = False
    # The paths of the payload that hold a credential, as their source said before
    # rendering (``templates.credential_paths``): set on rendered calls, so a header filled
    # from `SESSION_TOKEN` stays a secret once it is a plain string. Calls made in code
    # leave it empty: their key and credential-named headers count by name.
    credentials: frozenset[JsonPath] = frozenset()

    @property
    def kind(self) -> Kind:
        return BY_OP[self.op]

    def to_replay(self, *, show_secrets: bool = False) -> dict[str, Any]:
        """This call in ``replay.mjs``'s input shape; keys and credential headers masked
        unless ``show_secrets``."""
        key = self.kind.payload_key
        if key is None:
            return {"op": self.op.value, self.kind.identity: self.target, **dict(self.payload)}
        payload = (
            dict(self.payload) if show_secrets else mask_payload(self.payload, self.credentials)
        )
        return {"op": self.op.value, "id": self.target, key: payload}

    @classmethod
    def from_replay(cls, data: Mapping[str, Any], origins: Mapping[JsonPath, Origin]) -> Call:
        """The inverse of :meth:`to_replay` (with secrets shown). Raises ``ValueError``,
        ``KeyError`` or ``TypeError`` for data of another shape."""
        kind = _BY_NAME[data["op"]]  # a KeyError for an unknown call
        allow = data.get(ALLOW_PLAIN_HTTP) is True
        target = data[kind.identity]
        if not isinstance(target, str):
            raise TypeError(f"{kind.identity} is not a string")
        if kind.payload_key is None:
            payload = {
                k: v for k, v in data.items() if k not in ("op", kind.identity, ALLOW_PLAIN_HTTP)
            }
        else:
            payload = data[kind.payload_key]
        if not isinstance(payload, Mapping):
            raise TypeError("the payload is not a mapping")
        return cls(kind.op, target, payload, origins, allow)


# -- fields -------------------------------------------------------------------------------


def string_fields(kind: str, data: Mapping[str, Any]) -> Iterator[tuple[JsonPath, str]]:
    """``(path, value)`` of every string field of a document's ``data`` that may be a
    template: ``baseUrl``, ``apiKey``, header values and the gateway's strings."""
    if kind == "ApiProvider":
        return
    for key in ("baseUrl", "apiKey"):
        value = data.get(key)
        if isinstance(value, str):
            yield (key,), value
    headers = data.get("headers")
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if isinstance(value, str):
                yield ("headers", name), value
    gateway = data.get("gateway")
    if isinstance(gateway, Mapping):
        for key in ("id", "cacheKey", "eventId"):
            value = gateway.get(key)
            if isinstance(value, str):
                yield ("gateway", key), value
        metadata = gateway.get("metadata")
        if isinstance(metadata, Mapping):
            for name, value in metadata.items():
                if isinstance(value, str):
                    yield ("gateway", "metadata", name), value


def with_value(data: Any, path: JsonPath, value: Any) -> Any:
    """``data`` with ``value`` at ``path``: the containers along the path are new, the rest
    is shared (calls are never mutated, and rendering touches a few fields of each)."""
    head = path[0]
    out: Any = dict(data) if isinstance(data, Mapping) else list(data)
    out[head] = value if len(path) == 1 else with_value(data[head], path[1:], value)
    return out


def field_label(path: JsonPath) -> str:
    """How a message names the field at ``path``: ``apiKey``, ``header `X-Api-Key```,
    ``baseUrl``, ``gateway/metadata/team``."""
    if len(path) == 2 and path[0] == "headers":
        return f"header `{path[1]}`"
    return "/".join(map(str, path))


def get_path(data: Any, path: JsonPath) -> Any:
    for part in path:
        data = data[part]
    return data
