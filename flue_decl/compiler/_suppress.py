"""Suppression comments: ``# flue-decl: ignore[code, ...]`` in a YAML file.

- At the end of a line, it covers that line; alone on a line, the next line.
- ``# flue-decl: ignore-file[code, ...]`` anywhere covers the whole file.
- After the brackets, a reason may follow (``ignore[literal-secret]  # a placeholder``).

Only warnings and notes can be suppressed: an error means Flue would refuse the tree or a
key would leak. A comment that names an error code, an unknown code or is misspelt is an
``invalid-suppression`` warning (the error stays); one that silences nothing is an
``unused-suppression`` warning, so a stale comment cannot hide the next problem unseen.
Those two are about the comments themselves: no comment can silence them (the settings'
``ignore`` can). Text inside a YAML value that merely looks like a comment is not one, and
after a syntax error nothing counts, since what is a value there cannot be told.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import yaml

from .._codes import why_not_silenced
from .._errors import Diagnostic, Place, Severity

MARKER = "flue-decl:"
_COMMENT = re.compile(r"#[ \t]*flue-decl:[ \t]*(?P<body>[^\r\n\x85\u2028\u2029]*)")
_DIRECTIVE = re.compile(r"(?P<kind>ignore-file|ignore)[ \t]*\[(?P<codes>[^\]]*)\](?:[ \t].*)?$")
# The line breaks libyaml counts, so lines here are the lines of its marks.
_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A did-you-mean costs a fuzzy match against every code: only the first problems of a file
# get one (no more are listed anyway), so a file of junk codes stays cheap.
HINTED = 100
# About the comments themselves: a comment may not hide what is wrong with comments.
ABOUT_COMMENTS = frozenset({"invalid-suppression", "unused-suppression"})


@dataclass(frozen=True, slots=True)
class Suppression:
    """One comment: where it is, the codes it names and the line it covers (``None``: the
    whole file)."""

    place: Place
    line: int | None
    codes: tuple[str, ...]


def find(text: str, file: str) -> tuple[tuple[Suppression, ...], tuple[Diagnostic, ...]]:
    """The suppression comments of a file's text, and an ``invalid-suppression`` warning for
    each that cannot be one. Costs nothing for a file without the marker."""
    if MARKER not in text:
        return (), ()
    values, scanned = _value_spans(text)
    starts = [0, *(m.end() for m in _BREAK.finditer(text))]  # where each line begins
    found: list[Suppression] = []
    problems: list[Diagnostic] = []
    for match in _COMMENT.finditer(text, 0, scanned):
        start = match.start()
        if (start > 0 and not text[start - 1].isspace()) or _inside(values, start):
            continue  # `#` glued to text, or inside a value: not a comment
        line = bisect.bisect_right(starts, start)
        line_start = starts[line - 1]
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
            covered = None
        elif text[line_start:start].strip():
            covered = line  # after content: this line
        else:
            covered = line + 1  # alone: the next line
        found.append(Suppression(place, covered, valid))
    return tuple(found), tuple(problems)


def _valid_codes(codes: Sequence[str], place: Place, problems: list[Diagnostic]) -> tuple[str, ...]:
    valid = []
    for code in codes:
        refused = why_not_silenced(code, "suppressed", hint=len(problems) < HINTED)
        if refused is not None:
            problems.append(_invalid(place, *refused))
        elif code in ABOUT_COMMENTS:
            problems.append(
                _invalid(
                    place,
                    f"`{code}` is about suppression comments: no comment can silence it",
                    "fix the comment it reports, or ignore the code in the settings file",
                )
            )
        else:
            valid.append(code)
    return tuple(valid)


def _invalid(place: Place, message: str, hint: str) -> Diagnostic:
    return Diagnostic.at(
        "invalid-suppression", message, place, hint=hint, severity=Severity.WARNING
    )


def _value_spans(text: str) -> tuple[list[tuple[int, int]], int]:
    """Character spans of the file's scalar values (a `#` inside one is text, not a
    comment), in order, and how far the scan got: the whole text, or the place of a syntax
    error (reported elsewhere), after which no comment can be told from a value."""
    spans: list[tuple[int, int]] = []
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(token, yaml.ScalarToken):
                start, end = token.start_mark.index, token.end_mark.index
                if token.style in ("|", ">"):
                    # A block scalar's header line (`>- # comment`) is not its content.
                    header_end = _BREAK.search(text, start, end)
                    start = header_end.end() if header_end else end
                spans.append((start, end))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return spans, mark.index if mark is not None else 0
    except (yaml.YAMLError, ValueError, OverflowError):  # the pure scanner's chr() too
        return spans, 0
    return spans, len(text)


def _inside(spans: Sequence[tuple[int, int]], index: int) -> bool:
    """Whether ``index`` falls in one of ``spans`` (in order, not overlapping)."""
    at = bisect.bisect_right(spans, index, key=lambda span: span[0]) - 1
    return at >= 0 and spans[at][0] <= index < spans[at][1]


def apply(
    diagnostics: Iterable[Diagnostic], suppressions: Mapping[str, Sequence[Suppression]]
) -> list[Diagnostic]:
    """``diagnostics`` with the warnings and notes that a comment of their file covers
    marked ``suppressed="inSource"``, then a warning for each code of a comment that
    silenced nothing (``suppressions``: by file, as diagnostics name it). A file with an
    error gets no such warning: a check that did not run there (after a syntax error, on a
    document the schema refused) has silenced nothing yet, and the comment is not unused."""
    by_line: dict[tuple[str, int | None], list[Suppression]] = {}
    for file, comments in suppressions.items():
        for s in comments:
            by_line.setdefault((file, s.line), []).append(s)
    used: set[tuple[Suppression, str]] = set()
    errors: set[tuple[Suppression, str]] = set()  # covered, but an error: not silenced
    failed: set[str] = set()  # files with an error: checks may not have run there
    out: list[Diagnostic] = []
    for diag in diagnostics:
        file = diag.file or ""
        if diag.severity is Severity.ERROR:
            failed.add(file)
        candidates = by_line.get((file, None), [])
        if diag.line is not None:
            candidates = [*candidates, *by_line.get((file, diag.line), [])]
        covering = [s for s in candidates if diag.code in s.codes]
        if covering and diag.severity is not Severity.ERROR:
            used.update((s, diag.code) for s in covering)
            out.append(replace(diag, suppressed="inSource"))
        else:
            errors.update((s, diag.code) for s in covering)
            out.append(diag)
    for file, comments in suppressions.items():
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
                if file in failed:
                    continue
                where = "in this file" if s.line is None else "on the line it covers"
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
