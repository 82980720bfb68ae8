"""The compiled artifact: the calls with templates unrendered, their sources, no secrets.

Deterministic for the same input (no timestamps, sorted keys where order is
not meaningful), so CI can diff and cache it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ._compile import Call, literal_secrets
from ._errors import Diagnostic, format_path
from ._pipeline import Compilation

FORMAT = "flue-decl-artifact"
VERSION = 1


def artifact_problems(compilation: Compilation) -> list[Diagnostic]:
    return literal_secrets(compilation.calls)


def _call_json(call: Call) -> dict[str, Any]:
    data = call.to_replay(show_secrets=True)  # safe: literal secrets were refused before
    data["sources"] = {
        format_path(path): {
            "file": o.place.file,
            "line": o.place.line,
            "column": o.place.column,
            "layer": o.layer,
            "overlay": o.overlay,
        }
        for path, o in sorted(call.origins.items(), key=lambda kv: [str(p) for p in kv[0]])
    }
    return data


def build_artifact(compilation: Compilation, version: str) -> dict[str, Any]:
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
        "calls": [_call_json(call) for call in compilation.calls],
    }
