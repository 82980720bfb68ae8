"""Runs one tests/fixtures/invalid/<case>/ the way its expected.json says.

``expected.json`` holds the expected ``diagnostics`` (code, severity, file, line, column,
and ``suppressed``: true for one a comment or setting silenced) and optionally:
``command`` (validate, check-env, load, resolve, client, diff, settings; default validate),
``settings`` (a settings file, read by settings),
``paths`` (default ["providers.d"]), ``env``, ``options`` (``max_file_bytes``,
``handler_modules``), ``specs``
(resolve) and ``args`` (diff). Paths are relative to the case directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flue_decl import (
    ClientError,
    ConfigError,
    Diagnostic,
    ResolveError,
    compile_paths,
    load_registry,
)
from flue_decl._discover import MAX_FILE_BYTES
from flue_decl._load import calls_of
from flue_decl.runtime import render_calls
from flue_decl.views import diff_calls

ROOT = Path(__file__).parent / "fixtures" / "invalid"
CASES = sorted(p for p in ROOT.iterdir() if p.is_dir())


def spec(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((case / "expected.json").read_text())
    data.setdefault("command", "validate")
    data.setdefault("paths", ["providers.d"])
    data.setdefault("env", {})
    data.setdefault("options", {})
    return data


def run(case: Path, meta: dict[str, Any]) -> list[Diagnostic]:
    """The diagnostics the case produces through the Python API (cwd = the case)."""
    command, paths, env = meta["command"], meta["paths"], meta["env"]
    max_bytes = meta["options"].get("max_file_bytes", MAX_FILE_BYTES)
    if command == "validate":
        return list(compile_paths(paths, max_file_bytes=max_bytes).diagnostics)
    if command == "check-env":
        compilation = compile_paths(paths, max_file_bytes=max_bytes)
        assert compilation.ok, compilation.diagnostics
        return sorted(render_calls(compilation.calls, env)[1], key=Diagnostic.sort_key)
    try:
        if command == "settings":
            compile_paths(paths, settings=meta["settings"])
        elif command == "load":
            load_registry(paths, env=env, handler_modules=meta["options"].get("handler_modules"))
        elif command == "resolve":
            registry = load_registry(paths, env=env, import_handlers=False)
            found: list[Diagnostic] = []
            for item in meta["specs"]:
                try:
                    registry.resolve_model(item)
                except ResolveError as exc:
                    found.extend(exc.diagnostics)
            return found
        elif command == "client":
            registry = load_registry(paths, env=env, import_handlers=False)
            found = []
            for item in meta["specs"]:
                try:
                    registry.http_client(item).close()
                except ClientError as exc:
                    found.extend(exc.diagnostics)
            return found
        elif command == "diff":
            old, new = meta["args"]
            diff_calls(calls_of(old), calls_of(new))
        else:
            raise AssertionError(f"unknown fixture command {command}")
    except ConfigError as exc:
        return list(exc.diagnostics)
    return []


def key(d: Diagnostic | dict[str, Any]) -> tuple[Any, ...]:
    if isinstance(d, Diagnostic):
        return (d.code, d.severity.value, d.file, d.line, d.column, d.suppressed is not None)
    suppressed = d.get("suppressed", False)
    return (d["code"], d["severity"], d["file"], d["line"], d["column"], suppressed)
