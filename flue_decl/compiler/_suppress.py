"""Suppression comments: ``# flue-decl: ignore[code, ...]`` in a YAML file.

- At the end of a line, it covers that line; alone on a line, the next line.
- ``# flue-decl: ignore-file[code, ...]`` anywhere covers the whole file.
- After the brackets, a reason may follow (``ignore[literal-secret]  # a placeholder``).

Only warnings and notes can be suppressed: an error means Flue would refuse the tree or a
key would leak. A comment that names an error code, an unknown code or is misspelt is an
``invalid-suppression`` warning (the error stays); one that silences nothing is an
``unused-suppression`` warning, so a stale comment cannot hide the next problem unseen.
Text inside a YAML value that merely looks like such a comment is not one.
"""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import yaml

from .._codes import RULES
from .._errors import Diagnostic, Place, Severity, did_you_mean

MARKER = "flue-decl:"
_COMMENT = re.compile(r"#[ \t]*flue-decl:[ \t]*(?P<body>[^\n]*)")
# After the brackets, a reason may follow: `ignore[literal-secret]  # a reviewed placeholder`.
_DIRECTIVE = re.compile(r"(?P<kind>ignore-file|ignore)[ \t]*\[(?P<codes>[^\]\n]*)\](?:[ \t].*)?$")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A did-you-mean costs a fuzzy match against every code: only the first problems of a file
# get one (no more are listed anyway), so a file of junk codes stays cheap.
HINTED = 100


@dataclass(frozen=True, slots=True)
class Suppression:
    """One comment: where it is, the codes it names and the lines it covers (``None``:
    the whole file)."""

    place: Place
    lines: frozenset[int] | None
    codes: tuple[str, ...]

    def covers(self, diag: Diagnostic) -> bool:
        return diag.code in self.codes and (
            self.lines is None or (diag.line is not None and diag.line in self.lines)
        )


def find(text: str, file: str) -> tuple[tuple[Suppression, ...], tuple[Diagnostic, ...]]:
    """The suppression comments of a file's text, and an ``invalid-suppression`` warning for
    each that cannot be one. Costs nothing for a file without the marker."""
    if MARKER not in text:
        return (), ()
    values = _value_spans(text)
    found: list[Suppression] = []
    problems: list[Diagnostic] = []
    for match in _COMMENT.finditer(text):
        start = match.start()
        if (start > 0 and text[start - 1] not in " \t\n\r") or _inside(values, start):
            continue  # `#` glued to text, or inside a value: not a comment
        line_start = text.rfind("\n", 0, start) + 1
        line = text.count("\n", 0, start) + 1
        place = Place(file, line, start - line_start + 1)
        directive = _DIRECTIVE.match(match["body"].strip())
        if directive is None:
            problems.append(
                _invalid(
                    place,
                    "not a suppression: expected `ignore[code, ...]` or `ignore-file[code, ...]`",
                    "write `# flue-decl: ignore[code]` (this line, or the next when alone on "
                    "a line) or `# flue-decl: ignore-file[code]`",
                )
            )
            continue
        codes = tuple(c.strip() for c in directive["codes"].split(",") if c.strip())
        valid = _valid_codes(codes, place, problems)
        if not codes:
            problems.append(_invalid(place, "a suppression names no code", "name the codes"))
        if not valid:
            continue
        if directive["kind"] == "ignore-file":
            lines = None
        elif text[line_start:start].strip():
            lines = frozenset({line})  # after content: this line
        else:
            lines = frozenset({line + 1})  # alone: the next line
        found.append(Suppression(place, lines, valid))
    return tuple(found), tuple(problems)


def _valid_codes(codes: Sequence[str], place: Place, problems: list[Diagnostic]) -> tuple[str, ...]:
    valid = []
    for code in codes:
        rule = RULES.get(code)
        if rule is None:
            close = did_you_mean(code, RULES) if len(problems) < HINTED else None
            hint = close or "flue-decl's docs/checks.md lists every code"
            problems.append(_invalid(place, f"unknown code `{code}`", hint))
        elif rule.severity is Severity.ERROR:
            problems.append(
                _invalid(
                    place,
                    f"`{code}` is an error and cannot be suppressed",
                    "fix what it reports; only warnings and notes can be suppressed",
                )
            )
        else:
            valid.append(code)
    return tuple(valid)


def _invalid(place: Place, message: str, hint: str) -> Diagnostic:
    return Diagnostic.at(
        "invalid-suppression", message, place, hint=hint, severity=Severity.WARNING
    )


def _value_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the file's scalar values (a `#` inside one is text, not a
    comment), in order. A file that stops scanning (a syntax error, reported elsewhere)
    keeps the spans found up to there."""
    spans: list[tuple[int, int]] = []
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(token, yaml.ScalarToken):
                spans.append((token.start_mark.index, token.end_mark.index))
    except yaml.YAMLError:
        pass
    return spans


def _inside(spans: Sequence[tuple[int, int]], index: int) -> bool:
    """Whether ``index`` falls in one of ``spans`` (in order, not overlapping)."""
    at = bisect.bisect_right(spans, (index, sys.maxsize)) - 1
    return at >= 0 and spans[at][0] <= index < spans[at][1]


def apply(
    diagnostics: Iterable[Diagnostic], suppressions: Mapping[str, Sequence[Suppression]]
) -> list[Diagnostic]:
    """``diagnostics`` with the warnings and notes that a comment of their file covers
    marked ``suppressed="inSource"``, then a warning for each code of a comment that
    silenced nothing (``suppressions``: by file, as diagnostics name it)."""
    used: set[tuple[Suppression, str]] = set()
    errors: set[tuple[Suppression, str]] = set()  # covered, but an error: not silenced
    out: list[Diagnostic] = []
    for diag in diagnostics:
        covering = [s for s in suppressions.get(diag.file or "", ()) if s.covers(diag)]
        if covering and diag.severity is not Severity.ERROR:
            used.update((s, diag.code) for s in covering)
            out.append(replace(diag, suppressed="inSource"))
        else:
            errors.update((s, diag.code) for s in covering)
            out.append(diag)
    for comments in suppressions.values():
        for s in comments:
            for code in s.codes:
                if (s, code) in used:
                    continue
                if (s, code) in errors:
                    out.append(
                        _invalid(
                            s.place,
                            f"`{code}` is an error here and cannot be suppressed",
                            "fix what it reports; only warnings and notes can be suppressed",
                        )
                    )
                    continue
                where = "in this file" if s.lines is None else "on the line it covers"
                out.append(
                    Diagnostic.at(
                        "unused-suppression",
                        f"nothing to suppress: no `{code}` {where}",
                        s.place,
                        hint="remove the code from the comment (or the whole comment)",
                        severity=Severity.WARNING,
                    )
                )
    return out
