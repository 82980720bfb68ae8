"""Reporters turn collected diagnostics into output; selected by name (``--format``).

``text`` for people (the source line with a caret, colour on a terminal), ``json`` for
scripts, ``github`` for workflow annotations, ``sarif`` for code-scanning tools.
Suppressed diagnostics (a ``# flue-decl: ignore[...]`` comment, the settings' ``ignore``)
are left out of text and github output and listed, marked, in json and sarif.
Source lines are shown with credential values masked: a file that commits a key
must not have it echoed into CI logs by the tool that complains about it.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TextIO

from .._codes import RULES
from .._errors import Diagnostic, Severity
from .._files import read_capped
from .._inert import inert_json
from .._version import __version__
from ._redact import at_credential, redact_line

INFORMATION_URI = "https://pypi.org/project/flue-decl/"


class Reporter:
    name: ClassVar[str]

    def __init__(self, stream: TextIO, *, color: bool | None = None) -> None:
        self.stream = stream
        self.color = use_color(stream) if color is None else color

    def report(self, diagnostics: Sequence[Diagnostic], *, ok: bool, files: int | None) -> None:
        raise NotImplementedError

    def emit(self, text: str) -> None:
        print(text, file=self.stream)


def use_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# -- source excerpts ------------------------------------------------------------------

class _SourceLines:
    """The lines of one file at a time: diagnostics come sorted by file, and holding the
    lines of every file shown held 40 MB for eight 1 MiB files."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str] | None] = {}
        self._redacted: dict[tuple[str, int], str | None] = {}

    def redacted(self, file: str, number: int) -> str | None:
        """The line with credentials masked, masked once however many problems it has (a
        long line masked per problem would cost its length a hundred times)."""
        key = (file, number)
        if key not in self._redacted:
            line = self.line(file, number)
            self._redacted[key] = None if line is None else redact_line(line)
        return self._redacted[key]

    def line(self, file: str, number: int) -> str | None:
        if file not in self._cache:
            self._cache.clear()
            self._redacted.clear()
            try:
                # Never blocks: a file swapped for a FIFO since it was read is not echoed.
                raw = read_capped(file, 1 << 20)[: 1 << 20]
                self._cache[file] = raw.decode("utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                self._cache[file] = None
        lines = self._cache[file]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


_STYLE = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "note": "\x1b[1;36m",
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "caret": "\x1b[1;32m",
    "reset": "\x1b[0m",
}


EXCERPT_WIDTH = 100
# C0 (but tab), DEL and C1 as \xNN; the bidirectional controls, which reorder what a
# terminal or a review page shows (U+202A-U+202E, U+2066-U+2069), as \uNNNN.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(32), *range(127, 160)) if c != 9}
_CONTROL.update({c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})
_CONTROL_AS_ONE = dict.fromkeys(_CONTROL, "?")


_CONTROL_BUT_NEWLINE = {c: v for c, v in _CONTROL.items() if c != 10}


def inert_line(line: str) -> str:
    """A line that a CI runner will not take for a workflow command: one starting with
    ``::`` (after spaces) is shown behind a backslash, and the legacy ``##[`` (obeyed
    anywhere in a line) as ``##\\[``. Control characters are the caller's to make visible
    first."""
    line = line.replace("##[", "##\\[")
    return "\\" + line if line.lstrip().startswith("::") else line


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Control characters as ``\\xNN``: a config value must not drive the terminal."""
    return text.translate(_CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL)


def excerpt(line: str, column: int) -> tuple[str, int]:
    """At most EXCERPT_WIDTH characters of ``line`` around ``column``, and the caret offset."""
    if len(line) <= EXCERPT_WIDTH:
        return line, column - 1
    start = max(0, min(column - 1 - EXCERPT_WIDTH // 2, len(line) - EXCERPT_WIDTH))
    text = line[start : start + EXCERPT_WIDTH]
    caret = column - 1 - start
    if start > 0:
        text, caret = "…" + text, caret + 1
    if start + EXCERPT_WIDTH < len(line):
        text += "…"
    return text, caret


class TextReporter(Reporter):
    """``file:line:col: severity[code]: message``, the source line with a caret, a hint."""

    name = "text"

    def emit(self, text: str) -> None:
        # A file or settings value could start a line with `::error ...`: never a command.
        super().emit("\n".join(inert_line(line) for line in text.split("\n")))

    def paint(self, text: str, style: str) -> str:
        return f"{_STYLE[style]}{text}{_STYLE['reset']}" if self.color else text

    def report(self, diagnostics: Sequence[Diagnostic], *, ok: bool, files: int | None) -> None:
        sources = _SourceLines()
        for diag in _reported(diagnostics):
            severity = self.paint(diag.severity.value, diag.severity.value)
            head = (
                f"{self.paint(visible(diag.location), 'bold')}: {severity}[{diag.code}]: "
                f"{visible(diag.message)}"
            )
            self.emit(head)
            line = sources.redacted(diag.file, diag.line) if diag.file and diag.line else None
            if line is not None and diag.column is not None and at_credential(diag):
                # The value may stand on a line of its own (`apiKey:` above it, a `? key`,
                # a flow mapping): nothing from its column on is shown.
                line = line[: diag.column - 1] + "***"
            if line is not None and diag.column is not None:
                text, caret = excerpt(line.replace("\t", " "), diag.column)
                text = text.translate(_CONTROL_AS_ONE)  # one column each: the caret stays put
                gutter = f"{diag.line:>5} | "
                self.emit(self.paint(gutter, "dim") + text)
                pad = " " * (len(gutter) - 2)
                self.emit(self.paint(f"{pad}| ", "dim") + " " * caret + self.paint("^", "caret"))
            elif diag.path and diag.path != "$":
                self.emit(f"    at {diag.path}")
            if diag.hint:
                self.emit(f"    hint: {visible(diag.hint)}")
            for place in diag.related:
                self.emit(f"    see: {visible(str(place))}")
        self.emit(summary(diagnostics, ok=ok, files=files))


class JsonReporter(Reporter):
    """``{"ok": bool, "diagnostics": [...]}``: one object for scripts."""

    name = "json"

    def report(self, diagnostics: Sequence[Diagnostic], *, ok: bool, files: int | None) -> None:
        payload = {"ok": ok, "diagnostics": [diagnostic_json(d) for d in diagnostics]}
        # Suppressed ones are listed too ("suppressed": true), so an audit sees them.
        self.emit(inert_json(json.dumps(payload, indent=2, ensure_ascii=False)))


def _escape_data(text: str) -> str:
    # @actions/core escapeData; and the legacy `##[` command, which the runner obeys
    # anywhere in a line, shown as the human formats show it
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return escaped.replace("##[", "##\\[")


def _escape_property(text: str) -> str:
    # @actions/core escapeProperty, of the text as the human formats show it (a file name
    # may hold ESC, C1 or bidi controls)
    return _escape_data(visible(text)).replace(":", "%3A").replace(",", "%2C")


class GitHubReporter(Reporter):
    """GitHub Actions workflow commands: one annotation per problem, then a total.

    GitHub shows at most 10 annotations of each severity per step, so the closing
    line gives the full count (and every problem is in the log anyway)."""

    name = "github"

    def report(self, diagnostics: Sequence[Diagnostic], *, ok: bool, files: int | None) -> None:
        shown = _reported(diagnostics)
        for diag in shown:
            props = []
            if diag.file:
                props.append(f"file={_escape_property(diag.file)}")
            if diag.line:
                props.append(f"line={diag.line}")
            if diag.column:
                props.append(f"col={diag.column}")
            props.append(f"title={_escape_property(f'flue-decl {diag.code}')}")
            message = visible(diag.message, keep_newlines=True) + (
                f"\nhint: {visible(diag.hint, keep_newlines=True)}" if diag.hint else ""
            )
            command = _GITHUB_COMMANDS[diag.severity]
            self.emit(f"::{command} {','.join(props)}::{_escape_data(message)}")
        capped = (
            "; GitHub shows the first 10 of each kind per step, all are in this log"
            if len(shown) > 10
            else ""
        )
        self.emit(f"flue-decl: {summary(diagnostics, ok=ok, files=files)}{capped}")


def _uri(path: str) -> str:
    if os.path.isabs(path):
        return "file://" + urllib.parse.quote(path, errors="surrogateescape")
    # A name's bytes that are not UTF-8 (surrogates here) become their %XX, as in any URI.
    return urllib.parse.quote(path.replace(os.sep, "/"), errors="surrogateescape")


class SarifReporter(Reporter):
    """SARIF 2.1.0: every rule listed in the driver, results with their regions."""

    name = "sarif"

    def report(self, diagnostics: Sequence[Diagnostic], *, ok: bool, files: int | None) -> None:
        rules = list(RULES.values())
        index = {rule.code: i for i, rule in enumerate(rules)}
        results: list[dict[str, Any]] = []
        for diag in diagnostics:
            result: dict[str, Any] = {
                "ruleId": diag.code,
                "level": diag.severity.value,  # SARIF's levels are error, warning, note
                "message": {"text": diag.message + (f" (hint: {diag.hint})" if diag.hint else "")},
            }
            if diag.code in index:
                result["ruleIndex"] = index[diag.code]
            if diag.suppressed is not None:  # "inSource" or "external", SARIF's own words
                result["suppressions"] = [{"kind": diag.suppressed}]
            if diag.file:
                location: dict[str, Any] = {
                    "physicalLocation": {"artifactLocation": {"uri": _uri(diag.file)}}
                }
                if diag.line:
                    location["physicalLocation"]["region"] = {
                        "startLine": diag.line,
                        "startColumn": diag.column or 1,
                    }
                if diag.path:
                    location["logicalLocations"] = [
                        {"fullyQualifiedName": diag.path, "kind": "member"}
                    ]
                result["locations"] = [location]
            if diag.related:
                result["relatedLocations"] = [
                    {
                        "id": i,
                        "physicalLocation": {
                            "artifactLocation": {"uri": _uri(p.file)},
                            "region": {"startLine": p.line, "startColumn": p.column},
                        },
                    }
                    for i, p in enumerate(diag.related)
                ]
            results.append(result)
        log = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "flue-decl",
                            "version": __version__,
                            "informationUri": INFORMATION_URI,
                            "rules": [
                                {
                                    "id": rule.code,
                                    "name": rule.name,
                                    "shortDescription": {"text": rule.summary},
                                    "defaultConfiguration": {"level": rule.severity.value},
                                }
                                for rule in rules
                            ],
                        }
                    },
                    "results": results,
                }
            ],
        }
        self.emit(inert_json(json.dumps(log, indent=2, ensure_ascii=False)))


def diagnostic_json(diag: Diagnostic) -> dict[str, object]:
    out: dict[str, object] = {
        "severity": diag.severity.value,
        "code": diag.code,
        "message": diag.message,
        "file": diag.file,
        "line": diag.line,
        "column": diag.column,
        "path": diag.path,
        "suppressed": diag.suppressed is not None,
    }
    if diag.hint:
        out["hint"] = diag.hint
    if diag.related:
        out["related"] = [
            {"file": p.file, "line": p.line, "column": p.column} for p in diag.related
        ]
    return out


_GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _reported(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.suppressed is None]


def summary(diagnostics: Sequence[Diagnostic], *, ok: bool, files: int | None) -> str:
    """``failed: 1 error in 6 files checked``; without the count when ``files`` is None (a
    command that stopped before it knew); suppressed diagnostics counted apart."""
    noun = "file" if files == 1 else "files"
    checked = "" if files is None else f" in {files} {noun} checked"
    reported = _reported(diagnostics)
    hidden = len(diagnostics) - len(reported)
    quiet = f" ({hidden} suppressed)" if hidden else ""
    if not reported:
        return f"ok: {files or 0} {noun} checked, no problems{quiet}"
    parts = []
    for severity in Severity:
        count = sum(d.severity is severity for d in reported)
        if count:
            parts.append(f"{count} {severity.value}{'s' if count != 1 else ''}")
    status = "ok" if ok else "failed"
    return f"{status}: {' and '.join(parts)}{checked}{quiet}"


REPORTERS: dict[str, type[Reporter]] = {
    cls.name: cls for cls in (TextReporter, JsonReporter, GitHubReporter, SarifReporter)
}


def resolve_format(name: str, environ: Mapping[str, str] | None = None) -> str:
    """``auto`` is ``github`` under GitHub Actions, else ``text``."""
    if name != "auto":
        return name
    env = os.environ if environ is None else environ
    return "github" if env.get("GITHUB_ACTIONS") == "true" else "text"
