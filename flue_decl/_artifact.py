"""The compiled artifact: the calls with templates unrendered, their sources, no secrets.

Deterministic for the same input (no timestamps, sorted keys where order is not
meaningful), so CI can diff and cache it. ``integrity`` is the SHA-256 of the calls in
canonical JSON: a truncated or hand-edited artifact is refused at load, not half-used.
Loading needs no schema machinery (jsonschema is never imported): validation happened
when the artifact was compiled.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ._compile import OPS, Call, literal_secrets
from ._errors import Diagnostic, InputError, JsonPath, Place, Severity, format_path
from ._pipeline import Compilation, build_registry, render_or_raise
from ._registry import Origin, Registry

FORMAT = "flue-decl-artifact"
VERSION = 1


def artifact_problems(compilation: Compilation) -> list[Diagnostic]:
    return literal_secrets(compilation.calls)


def _call_json(call: Call) -> dict[str, Any]:
    data = call.to_replay(show_secrets=True)  # safe: literal secrets were refused before
    data["sources"] = {
        format_path(path): {
            "path": list(path),
            "file": o.place.file,
            "line": o.place.line,
            "column": o.place.column,
            "layer": o.layer,
            "overlay": o.overlay,
        }
        for path, o in sorted(call.origins.items(), key=lambda kv: [str(p) for p in kv[0]])
    }
    return data


# The checksum covers the artifact's own bytes with the checksum field zeroed: verifying
# it is one hash over the file, not a re-encoding of every call.
_ZEROED = "sha256:" + "0" * 64
_INTEGRITY = re.compile(r'"integrity": "sha256:([0-9a-f]{64})"')


def artifact_text(compilation: Compilation, version: str) -> str:
    """The artifact as written to disk: JSON with a checksum of its own bytes."""
    text = json.dumps(build_artifact(compilation, version), indent=2, ensure_ascii=False) + "\n"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text.replace(f'"integrity": "{_ZEROED}"', f'"integrity": "sha256:{digest}"', 1)


def _verify(text: str) -> bool:
    match = _INTEGRITY.search(text)  # the first occurrence: it is written before the calls
    if match is None:
        return False
    zeroed = text[: match.start()] + f'"integrity": "{_ZEROED}"' + text[match.end() :]
    return hashlib.sha256(zeroed.encode("utf-8")).hexdigest() == match.group(1)


class _Origins(Mapping[JsonPath, Origin]):
    """A call's origins, built on first use: a service never reads them unless it explains
    a field or reports an error, and an artifact holds one per field."""

    def __init__(self, sources: Any, layers: list[str]) -> None:
        self._sources, self._layers = sources, layers
        self._built: dict[JsonPath, Origin] | None = None

    def _table(self) -> dict[JsonPath, Origin]:
        if self._built is None:
            layers = self._layers
            self._built = {
                tuple(o["path"]): Origin(
                    Place(o["file"], o["line"], o["column"]),
                    o["layer"],
                    layers[o["layer"]] if o["layer"] < len(layers) else "",
                    o["overlay"],
                )
                for o in self._sources.values()
            }
        return self._built

    def __getitem__(self, path: JsonPath) -> Origin:
        return self._table()[path]

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


def build_artifact(compilation: Compilation, version: str) -> dict[str, Any]:
    calls = [_call_json(call) for call in compilation.calls]
    digest = hashlib.sha256()
    for path, sha in compilation.hashes:
        digest.update(f"{path}\0{sha}\n".encode())
    return {
        "format": FORMAT,
        "version": VERSION,
        "integrity": _ZEROED,  # before the calls, so the checksum is the first match
        "generator": f"flue-decl {version}",
        "inputs": {
            "layers": [layer.root for layer in compilation.discovery.layers],
            "files": [{"path": p, "sha256": s} for p, s in compilation.hashes],
            "sha256": digest.hexdigest(),
        },
        "calls": calls,
    }


def read_artifact(path: str) -> tuple[Call, ...]:
    """The calls of a compiled artifact (templates unrendered), with their origins."""

    def bad(message: str) -> InputError:
        return InputError([Diagnostic(Severity.ERROR, "artifact-invalid", message, file=path)])

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"cannot read the artifact: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("not a flue-decl artifact (no `format: flue-decl-artifact`)")
    if data.get("version") != VERSION:
        raise bad(f"artifact version {data.get('version')!r} is not supported (expected {VERSION})")
    if not _verify(text):
        raise bad(
            "integrity check failed: the file does not match its checksum "
            "(truncated or edited by hand?); compile it again"
        )
    layers = data.get("inputs", {}).get("layers", [])
    calls = []
    try:
        for raw in data["calls"]:
            op = raw["op"]
            if op not in OPS.values():
                raise bad(f"unknown call {op!r}")
            if op == "registerApiProvider":
                target = raw["api"]
                payload = {k: v for k, v in raw.items() if k not in ("op", "api", "sources")}
            else:
                target = raw["id"]
                payload = raw["registration" if op == "registerProvider" else "settings"]
            origins = _Origins(raw.get("sources", {}), layers)
            calls.append(Call(op, target, payload, origins))
    except (KeyError, TypeError, IndexError) as exc:
        raise bad(f"malformed call in the artifact ({exc})") from None
    return tuple(calls)


def load_artifact(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool = True,
) -> Registry:
    """A Registry from a compiled artifact: version and integrity checked, templates rendered
    against ``env`` (default ``os.environ``), ApiProvider handlers imported.

    Raises :class:`InputError` (``artifact-invalid``) or :class:`TemplateError`.
    """
    environ = dict(os.environ) if env is None else dict(env)
    rendered = render_or_raise(read_artifact(os.fspath(path)), environ)
    return build_registry(rendered, env=environ, bindings=bindings, import_handlers=import_handlers)
