"""Reporters turn collected diagnostics into output; selected by name (``--format``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar, TextIO

from ._errors import Diagnostic, Severity


class Reporter:
    name: ClassVar[str]

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def report(self, diagnostics: Sequence[Diagnostic], *, ok: bool, files: int) -> None:
        raise NotImplementedError


class TextReporter(Reporter):
    """``file:line:col: severity[code]: message``, one per problem, then a summary."""

    name = "text"

    def report(self, diagnostics: Sequence[Diagnostic], *, ok: bool, files: int) -> None:
        for diag in diagnostics:
            print(
                f"{diag.location}: {diag.severity.value}[{diag.code}]: {diag.message}",
                file=self.stream,
            )
            if diag.path and diag.path != "$":
                print(f"    at {diag.path}", file=self.stream)
            if diag.hint:
                print(f"    hint: {diag.hint}", file=self.stream)
            for place in diag.related:
                print(f"    see: {place}", file=self.stream)
        print(summary(diagnostics, ok=ok, files=files), file=self.stream)


class JsonReporter(Reporter):
    """The contract's shape: ``{"ok": bool, "diagnostics": [...]}``."""

    name = "json"

    def report(self, diagnostics: Sequence[Diagnostic], *, ok: bool, files: int) -> None:
        payload = {"ok": ok, "diagnostics": [diagnostic_json(d) for d in diagnostics]}
        print(json.dumps(payload, indent=2, ensure_ascii=False), file=self.stream)


def diagnostic_json(diag: Diagnostic) -> dict[str, object]:
    out: dict[str, object] = {
        "severity": diag.severity.value,
        "code": diag.code,
        "message": diag.message,
        "file": diag.file,
        "line": diag.line,
        "column": diag.column,
        "path": diag.path,
    }
    if diag.hint:
        out["hint"] = diag.hint
    if diag.related:
        out["related"] = [
            {"file": p.file, "line": p.line, "column": p.column} for p in diag.related
        ]
    return out


def summary(diagnostics: Sequence[Diagnostic], *, ok: bool, files: int) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    noun = "file" if files == 1 else "files"
    if not diagnostics:
        return f"ok: {files} {noun} checked, no problems"
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    status = "ok" if ok else "failed"
    return f"{status}: {' and '.join(parts)} in {files} {noun} checked"


REPORTERS: dict[str, type[Reporter]] = {cls.name: cls for cls in (TextReporter, JsonReporter)}
