"""The compiled artifact: the calls with templates unrendered, their sources, no secrets.

Deterministic for the same input (no timestamps, sources in path order), so CI can diff
and cache it. ``integrity`` is the SHA-256 of the file's own bytes with that field zeroed:
a truncated or hand-edited artifact is refused at load, not half-used. Loading needs no
YAML or schema machinery: validation happened when the artifact was compiled.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .._domain import Call, Origins, string_fields, with_value
from .._errors import Diagnostic, InputError, Severity, frames_dropped
from .._files import one_path
from .._inert import inert_json
from .._jsjson import escape_lone_surrogates
from .._service import ServiceOptions
from ..templates import is_credential, is_template
from . import _sources
from ._build import build_registry
from ._decode import (
    FORMAT,
    GENERATOR,
    VERSION,
    ZEROED,
    ZEROED_SIGNATURE,
    decode_artifact,
    key_bytes,
    signature,
)
from ._lines import START_PLAIN_HTTP, TEMPLATE_SLOT, Calls
from ._registry import Registry

ARTIFACT_KEY_ENV = "FLUE_DECL_ARTIFACT_KEY"


def artifact_text(
    calls: Sequence[Call],
    *,
    layers: Sequence[str],
    files: Sequence[tuple[str, str]],
    generator: str = GENERATOR,
    sign_key: str | bytes | None = None,
) -> str:
    """The artifact of compiled ``calls`` as written to disk: JSON with a checksum of its
    own bytes, and with ``sign_key`` an HMAC-SHA256 of that checksum (``signature``).
    ``layers`` are the input roots in order, ``files`` the ``(path, sha256)`` of every
    input file. The calls are written as they are: the caller refuses literal secrets
    first (``literal_secrets``).

    Compact, one item per line (the layout: ``_decode``): ``files`` (``[path, sha256]``),
    ``origins`` (``[file, layer, overlay]``, a file by its number in ``files``), then
    for each call in order its line of ``start`` (what loading reads), of ``calls`` (its
    payload) and of ``sources`` (where its fields were written: ``_sources``).
    """
    return "".join(
        artifact_pieces(calls, layers=layers, files=files, generator=generator, sign_key=sign_key)
    )


def artifact_pieces(
    calls: Sequence[Call],
    *,
    layers: Sequence[str],
    files: Sequence[tuple[str, str]],
    generator: str = GENERATOR,
    sign_key: str | bytes | None = None,
) -> Iterator[str]:
    """:func:`artifact_text` in pieces (about a line each), to be written one after the
    other: a 10,000-file artifact is never held whole. The checksum comes first in the
    file, so the calls' lines are made twice, once for it and once to be written (0.2 s
    at 10,000 files: their 13 MB were held otherwise); each call's places are forgotten
    once its sources are read. A whole text, the calls' JSON-shaped copies and every
    place held at once were half of a large compile's memory."""
    origin_ids: dict[tuple[str, int, bool], int] = {}
    sources = list(_block(_sources_of(call, origin_ids) for call in calls))
    head = _header(layers, files, generator)
    if sign_key is not None:  # right after the checksum: see _SIGNED
        at = list(head).index("integrity") + 1
        items = list(head.items())
        head = dict([*items[:at], ("signature", ZEROED_SIGNATURE), *items[at:]])
    head["files"] = _FILES
    head["origins"] = _ORIGINS
    head["start"] = _START
    head["calls"] = _CALLS
    head["sources"] = _SOURCES_SLOT
    text = json.dumps(head, indent=2, ensure_ascii=False) + "\n"
    before, text = text.split(json.dumps(_FILES), 1)
    after_files, text = text.split(json.dumps(_ORIGINS), 1)
    between, text = text.split(json.dumps(_START), 1)
    next_to, text = text.split(json.dumps(_CALLS), 1)
    then, after = text.split(json.dumps(_SOURCES_SLOT), 1)
    numbers = {path: n for n, (path, _) in enumerate(files)}  # an origin's file, by number
    listed = list(_block([path, sha] for path, sha in files))
    origins = list(_block([numbers.get(f, f), layer, o] for f, layer, o in origin_ids))
    starts = list(_block(_start_of(call) for call in calls))

    def pieces() -> Iterator[str]:
        # The same JSON (see flue_decl._inert); a piece ends before a list or after an
        # item of one, so no escape spans two of them.
        for piece in (before, *listed, after_files, *origins, between, *starts, next_to):
            yield escape_lone_surrogates(inert_json(piece))
        for piece in _block(_encoded(call) for call in calls):
            yield escape_lone_surrogates(inert_json(piece))
        for piece in (then, *sources, after):
            yield escape_lone_surrogates(inert_json(piece))

    digest = hashlib.sha256()
    for piece in pieces():
        digest.update(piece.encode("utf-8"))
    checksum = digest.hexdigest()
    written = pieces()
    head_text = next(written).replace(
        f'"integrity": "{ZEROED}"', f'"integrity": "sha256:{checksum}"', 1
    )
    if sign_key is not None:
        signed = signature(key_bytes(sign_key), checksum)
        head_text = head_text.replace(
            f'"signature": "{ZEROED_SIGNATURE}"', f'"signature": "hmac-sha256:{signed}"', 1
        )
    return itertools.chain([head_text], written)  # all but the calls' lines done by now


def _sources_of(call: Call, origin_ids: dict[tuple[str, int, bool], int]) -> list[Any]:
    line = _sources.encode(call, origin_ids)
    if isinstance(call.origins, Origins):  # each call's are read once here: not all held
        call.origins.forget()
    return line


def _start_of(call: Call) -> list[Any]:
    """``call``'s line of ``start`` (see ``_decode.START_PLAIN_HTTP``)."""
    flags = START_PLAIN_HTTP if call.allow_plain_http else 0
    templates: list[Any] = []
    credentials: list[Any] = []
    for path, source in string_fields(call.kind.name, call.payload):
        if is_credential(path, source):
            credentials.append(path)
        if is_template(source):
            templates += (path, source)
    return [call.op.value, call.target, flags, templates, credentials]


def _encoded(call: Call) -> Any:
    """``call``'s line of ``calls``: its payload, a slot where each template is (the
    template is in its start line). Literal secrets are refused before it is written."""
    payload = call.payload
    for path, source in string_fields(call.kind.name, payload):
        if is_template(source):
            payload = with_value(payload, path, TEMPLATE_SLOT)
    return payload


_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _block(items: Iterable[Any]) -> Iterator[str]:
    """One list, one item per line: a piece for each, brackets and separators in them."""
    first = True
    for item in items:
        yield ("[\n    " if first else ",\n    ") + _DUMPS(item)
        first = False
    yield "[]" if first else "\n  ]"


# Placeholders for the long lists, written one item per line: they cannot occur in the
# header's own JSON (NUL is escaped there and no path holds one).
_FILES = "\u0000files\u0000"
_ORIGINS = "\u0000origins\u0000"
_START = "\u0000start\u0000"
_CALLS = "\u0000calls\u0000"
_SOURCES_SLOT = "\u0000sources\u0000"


def _header(
    layers: Sequence[str], files: Sequence[tuple[str, str]], generator: str
) -> dict[str, Any]:
    digest = hashlib.sha256()
    for path, sha in files:
        digest.update(f"{path}\0{sha}\n".encode(errors="surrogateescape"))  # the name's own bytes
    return {
        "format": FORMAT,
        "version": VERSION,
        "integrity": ZEROED,  # before the calls, so the checksum is the first match
        "generator": generator,
        "inputs": {"layers": list(layers), "sha256": digest.hexdigest()},
    }


@frames_dropped
def read_artifact(path: str, *, verify_key: str | bytes | None = None) -> tuple[Call, ...]:
    """The calls of a compiled artifact (templates unrendered), with their origins. With
    ``verify_key``, an artifact not signed with that key is refused."""
    return tuple(_read_calls(path, verify_key))


def _read_calls(path: str, verify_key: str | bytes | None) -> Calls:
    """The calls of the artifact at ``path``, decoded when read (see :class:`Calls`)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise InputError(
            [
                Diagnostic(
                    Severity.ERROR,
                    "artifact-invalid",
                    f"cannot read the artifact: {exc}",
                    file=path,
                )
            ]
        ) from None
    return decode_artifact(raw, path, verify_key=verify_key)


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
    # Decoded for this registry alone, in its one pass over them.
    return build_registry(_read_calls(os.fspath(path), verify_key), options=service)
