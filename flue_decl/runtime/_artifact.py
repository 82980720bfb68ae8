"""The compiled artifact: the calls with templates unrendered, their sources, no secrets.

Deterministic for the same input (no timestamps, sources in path order), so CI can diff
and cache it. ``integrity`` is the SHA-256 of the file's own bytes with that field zeroed:
a truncated or hand-edited artifact is refused at load, not half-used. Loading needs no
YAML or schema machinery: validation happened when the artifact was compiled.
"""

from __future__ import annotations

import _thread  # a lock without importing threading at a service start
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .._discover import one_path
from .._domain import ALLOW_PLAIN_HTTP, Call, Origin, OriginRow, origin_of
from .._errors import Diagnostic, InputError, JsonPath, Severity, frames_dropped
from .._inert import inert_json
from .._jsjson import escape_lone_surrogates
from .._service import ServiceOptions
from .._version import __version__
from ._build import build_registry
from ._registry import Registry

FORMAT = "flue-decl-artifact"
VERSION = 2  # 2: compact sources against an origins table, one call per line


def _sources(call: Call, origin_ids: dict[tuple[str, int, bool], int]) -> list[list[Any]]:
    out = []
    for path, o in sorted(call.origins.items(), key=lambda kv: [str(p) for p in kv[0]]):
        where = origin_ids.setdefault((o.place.file or "", o.layer, o.overlay), len(origin_ids))
        out.append([where, o.place.line, o.place.column, *path])
    return out


# The checksum covers the artifact's own bytes with the checksum field zeroed: verifying
# it is one hash over the file, not a re-encoding of every call.
_ZEROED = "sha256:" + "0" * 64
_INTEGRITY = re.compile(rb'"integrity": "sha256:([0-9a-f]{64})"')
_ZEROED_FIELD = f'"integrity": "{_ZEROED}"'.encode()
# A signed artifact has an HMAC-SHA256 of that checksum on the next line, zeroed as well
# when the checksum is computed: the key authenticates every byte through it.
_ZEROED_SIGNATURE = "hmac-sha256:" + "0" * 64
_SIGNED = re.compile(
    rb'"integrity": "sha256:[0-9a-f]{64}",\n  "signature": "hmac-sha256:([0-9a-f]{64})"'
)
_ZEROED_SIGNED = f'"integrity": "{_ZEROED}",\n  "signature": "{_ZEROED_SIGNATURE}"'.encode()
ARTIFACT_KEY_ENV = "FLUE_DECL_ARTIFACT_KEY"
# The last member, on a line of its own: a service start decodes everything before it and
# leaves the sources (most of the file, read only to explain a field or report an error)
# for the first time an origin is asked for.
_SOURCES = b'\n  "sources": '


def artifact_text(
    calls: Sequence[Call],
    *,
    layers: Sequence[str],
    files: Sequence[tuple[str, str]],
    generator: str = f"flue-decl {__version__}",
    sign_key: str | bytes | None = None,
) -> str:
    """The artifact of compiled ``calls`` as written to disk: JSON with a checksum of its
    own bytes, and with ``sign_key`` an HMAC-SHA256 of that checksum (``signature``).
    ``layers`` are the input roots in order, ``files`` the ``(path, sha256)`` of every
    input file. The calls are written as they are: the caller refuses literal secrets
    first (``literal_secrets``).

    Compact, one item per line: ``calls`` in order, then ``sources``, whose n-th line holds
    the n-th call's fields as ``[origin, line, column, *path]``, ``origin`` indexing the
    ``origins`` table of ``[file, layer, overlay]``.
    """
    origin_ids: dict[tuple[str, int, bool], int] = {}
    encoded = [_encoded(call) for call in calls]
    sources = [_sources(call, origin_ids) for call in calls]
    head = _header(layers, files, generator)
    if sign_key is not None:  # right after the checksum: see _SIGNED
        at = list(head).index("integrity") + 1
        items = list(head.items())
        head = dict([*items[:at], ("signature", _ZEROED_SIGNATURE), *items[at:]])
    head["origins"] = _ORIGINS
    head["calls"] = _CALLS
    head["sources"] = _SOURCES_SLOT
    text = json.dumps(head, indent=2, ensure_ascii=False) + "\n"
    text = text.replace(json.dumps(_ORIGINS), _block([list(o) for o in origin_ids]), 1)
    text = text.replace(json.dumps(_CALLS), _block(encoded), 1)
    text = text.replace(json.dumps(_SOURCES_SLOT), _block(sources), 1)
    text = escape_lone_surrogates(inert_json(text))  # the same JSON: see flue_decl._inert
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    text = text.replace(f'"integrity": "{_ZEROED}"', f'"integrity": "sha256:{digest}"', 1)
    if sign_key is not None:
        signature = _signature(_key_bytes(sign_key), digest)
        text = text.replace(
            f'"signature": "{_ZEROED_SIGNATURE}"', f'"signature": "hmac-sha256:{signature}"', 1
        )
    return text


def _key_bytes(key: str | bytes) -> bytes:
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


def _signature(key: bytes, digest: str) -> str:
    return hmac.new(key, b"flue-decl-artifact\0" + digest.encode("ascii"), "sha256").hexdigest()


def _encoded(call: Call) -> dict[str, Any]:
    # show_secrets: literal secrets are refused before an artifact is written.
    line = call.to_replay(show_secrets=True)
    if call.allow_plain_http:
        line[ALLOW_PLAIN_HTTP] = True  # beside the payload: Flue is never given it
    return line


def _block(items: list[Any]) -> str:
    lines = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items]
    return "[\n" + ",\n".join(f"    {line}" for line in lines) + "\n  ]" if lines else "[]"


# Placeholders for the long lists, written one item per line: they cannot occur in the
# header's own JSON (NUL is escaped there and no path holds one).
_ORIGINS = "\u0000origins\u0000"
_CALLS = "\u0000calls\u0000"
_SOURCES_SLOT = "\u0000sources\u0000"


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


class _LazySources:
    """The artifact's ``sources`` member, decoded once, on first use."""

    def __init__(self, artifact: str, text: memoryview, count: int) -> None:
        self.artifact, self._text, self._count = artifact, text, count
        self._decoded: list[Any] | None = None
        self._lock = _thread.allocate_lock()  # threads of a service may ask at once

    def bad(self, why: str) -> InputError:
        message = f"malformed sources in the artifact ({why}); compile it again"
        return InputError(
            [Diagnostic(Severity.ERROR, "artifact-invalid", message, file=self.artifact)]
        )

    def of(self, index: int) -> list[Any]:
        if self._decoded is None:
            with self._lock:
                if self._decoded is None:
                    self._decoded = self._decode()
                    self._text = memoryview(b"")  # the file's bytes can go now
        entries: list[Any] = self._decoded[index]
        return entries

    def _decode(self) -> list[Any]:
        try:
            text = bytes(self._text).decode("utf-8")
            decoded, end = json.JSONDecoder().raw_decode(text)
        except ValueError as exc:
            raise self.bad(str(exc)) from None
        if text[end:].strip() != "}":
            raise self.bad("the sources are not the last member")
        if not isinstance(decoded, list) or len(decoded) != self._count:
            raise self.bad("one list of fields per call expected")
        return decoded


class _Origins(Mapping[JsonPath, Origin]):
    """A call's origins, built on first use: a service never reads them unless it explains
    a field or reports an error, and an artifact holds one per field."""

    def __init__(
        self, sources: _LazySources, index: int, origins: list[Any], layers: list[str]
    ) -> None:
        self._sources, self._index, self._origins, self._layers = sources, index, origins, layers
        self._built: dict[JsonPath, OriginRow] | None = None

    def _table(self) -> dict[JsonPath, OriginRow]:
        if self._built is None:
            layers = self._layers
            built = {}
            try:
                table = [
                    (file, layer, layers[layer] if layer < len(layers) else "", bool(overlay))
                    for file, layer, overlay in self._origins
                ]
                for where, line, column, *path in self._sources.of(self._index):
                    file, layer, root, overlay = table[where]
                    built[tuple(path)] = (file, line, column, layer, root, overlay)
            except (ValueError, TypeError, IndexError) as exc:
                raise self._sources.bad(str(exc)) from None
            self._built = built
        return self._built

    def __getitem__(self, path: JsonPath) -> Origin:
        return origin_of(self._table()[path])

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


def _header(
    layers: Sequence[str], files: Sequence[tuple[str, str]], generator: str
) -> dict[str, Any]:
    digest = hashlib.sha256()
    for path, sha in files:
        digest.update(f"{path}\0{sha}\n".encode(errors="surrogateescape"))  # the name's own bytes
    return {
        "format": FORMAT,
        "version": VERSION,
        "integrity": _ZEROED,  # before the calls, so the checksum is the first match
        "generator": generator,
        "inputs": {
            "layers": list(layers),
            "files": [{"path": p, "sha256": s} for p, s in files],
            "sha256": digest.hexdigest(),
        },
    }


@frames_dropped
def read_artifact(path: str, *, verify_key: str | bytes | None = None) -> tuple[Call, ...]:
    """The calls of a compiled artifact (templates unrendered), with their origins. With
    ``verify_key``, an artifact not signed with that key is refused."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise _bad(path, f"cannot read the artifact: {exc}") from None
    return decode_artifact(raw, path, verify_key=verify_key)


def _bad(path: str, message: str) -> InputError:
    return InputError([Diagnostic(Severity.ERROR, "artifact-invalid", message, file=path)])


def decode_artifact(
    raw: bytes, path: str, *, verify_key: str | bytes | None = None
) -> tuple[Call, ...]:
    """:func:`read_artifact` of an artifact's bytes; ``path`` names it in errors."""

    def bad(message: str) -> InputError:
        return _bad(path, message)

    # Everything but the trailing sources member is decoded now; the checksum (verified
    # before anything is used) guarantees the layout this split relies on.
    split = raw.rfind(_SOURCES)
    comma = raw.rfind(b",", 0, split) if split != -1 else -1  # the one ending `calls`
    try:
        data = json.loads(raw[:comma] + b"\n}" if comma != -1 else raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
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
        try:
            key = _key_bytes(verify_key)
        except ValueError:
            raise bad("the verification key is empty: it verifies nothing") from None
        checksum, signature = verified
        if signature is None:
            raise bad("the artifact is not signed; compile it with --sign-key-env")
        if not hmac.compare_digest(signature, _signature(key, checksum)):
            raise bad(
                "the signature does not match: signed with another key, or edited and "
                "checksummed again after signing"
            )
    if comma == -1:
        raise bad("malformed artifact (no `sources` member at the end)")
    layers = data.get("inputs", {}).get("layers", [])
    # Rows as plain tuples, which the cyclic collector stops tracking: lists it never does.
    origins = [tuple(row) if isinstance(row, list) else row for row in data.get("origins", [])]
    calls = []
    try:
        raw_calls = data["calls"]
        sources = _LazySources(path, memoryview(raw)[split + len(_SOURCES) :], len(raw_calls))
        for index, raw_call in enumerate(raw_calls):
            origins_of = _Origins(sources, index, origins, layers)
            calls.append(Call.from_replay(raw_call, origins_of))
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise bad(f"malformed call in the artifact ({exc})") from None
    return tuple(calls)


@frames_dropped
def load_artifact(
    path: str | os.PathLike[str],
    *,
    options: ServiceOptions | None = None,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool | None = None,
    handler_modules: Sequence[str] | None = None,
    verify_key: str | bytes | None = None,
    providers: Iterable[str] | None = None,
    secrets_dir: str | os.PathLike[str] | None = None,
) -> Registry:
    """A Registry from a compiled artifact: version and integrity checked, templates rendered
    against ``env`` (default ``os.environ``), ApiProvider handlers imported from the
    ``handler_modules`` allowed (see ``load_registry``).

    With ``verify_key`` (default: ``FLUE_DECL_ARTIFACT_KEY`` if set) the artifact must be
    signed with that key (``flue-decl compile --sign-key-env``): an unsigned, re-signed
    or edited one is refused as ``artifact-invalid``. ``providers`` and ``secrets_dir``: see
    ``load_registry``.

    ``options``: a :class:`ServiceOptions` for all of these at once; a keyword given wins
    over its field. Raises :class:`InputError` (``artifact-invalid``) or
    :class:`TemplateError`.
    """
    path = one_path(path, what="load_artifact")  # one artifact, never a list of them
    service = ServiceOptions.given(
        options,
        env=env,
        bindings=bindings,
        import_handlers=import_handlers,
        handler_modules=handler_modules,
        providers=providers,
        secrets_dir=secrets_dir,
        verify_key=verify_key,
    )
    verify_key = service.verify_key
    if verify_key is None and ARTIFACT_KEY_ENV in os.environ:
        verify_key = os.environ[ARTIFACT_KEY_ENV]
        if not verify_key:  # set but empty: a deployment mistake, not "do not verify"
            raise InputError(
                [
                    Diagnostic(
                        Severity.ERROR,
                        "artifact-invalid",
                        f"{ARTIFACT_KEY_ENV} is set but empty: no artifact can be verified",
                        file=os.fspath(path),
                    )
                ]
            )
    # The calls were decoded for this registry alone: their payloads are handed over.
    calls = read_artifact(os.fspath(path), verify_key=verify_key)
    return build_registry(calls, options=service, owned=True)
