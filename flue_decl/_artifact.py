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
from collections.abc import Mapping
from typing import Any

from ._compile import OPS, Call, literal_secrets
from ._errors import Diagnostic, InputError, Place, Severity, format_path
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


def _integrity(calls: Any) -> str:
    canonical = json.dumps(calls, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def build_artifact(compilation: Compilation, version: str) -> dict[str, Any]:
    calls = [_call_json(call) for call in compilation.calls]
    digest = hashlib.sha256()
    for path, sha in compilation.hashes:
        digest.update(f"{path}\0{sha}\n".encode())
    return {
        "format": FORMAT,
        "version": VERSION,
        "generator": f"flue-decl {version}",
        "inputs": {
            "layers": [layer.root for layer in compilation.discovery.layers],
            "files": [{"path": p, "sha256": s} for p, s in compilation.hashes],
            "sha256": digest.hexdigest(),
        },
        "calls": calls,
        "integrity": _integrity(calls),
    }


def read_artifact(path: str) -> tuple[Call, ...]:
    """The calls of a compiled artifact (templates unrendered), with their origins."""

    def bad(message: str) -> InputError:
        return InputError([Diagnostic(Severity.ERROR, "artifact-invalid", message, file=path)])

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"cannot read the artifact: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("not a flue-decl artifact (no `format: flue-decl-artifact`)")
    if data.get("version") != VERSION:
        raise bad(f"artifact version {data.get('version')!r} is not supported (expected {VERSION})")
    if data.get("integrity") != _integrity(data.get("calls")):
        raise bad(
            "integrity check failed: the calls do not match the artifact's checksum "
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
            origins = {
                tuple(o["path"]): Origin(
                    Place(o["file"], o["line"], o["column"]),
                    o["layer"],
                    layers[o["layer"]] if o["layer"] < len(layers) else "",
                    o["overlay"],
                )
                for o in raw.get("sources", {}).values()
            }
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
