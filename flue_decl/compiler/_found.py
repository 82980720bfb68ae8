"""A compile's diagnostics as they are found, kept within bounds (see :class:`Found`)."""

from __future__ import annotations

from collections.abc import Iterable

from .._errors import Diagnostic, Severity
from ._budget import DIAGNOSTIC, DIAGNOSTICS_KEPT

MAX_KEPT = 1000  # diagnostics of one code in one file; what is shown is 100 a file
_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class Found:
    """A compile's diagnostics as they are found, within two bounds: ``MAX_KEPT`` of one
    code in one file (300,000 `yaml11-boolean` warnings in a dense file would hold a
    gigabyte, and the first 100 of a file are what is shown), and ``DIAGNOSTICS_KEPT``
    bytes in all, ``DIAGNOSTIC`` each (200 small files of unknown keys held 110 MB of
    them, 100,000 empty files would hold a refusal each). What is not kept is counted and
    said, as grave as the gravest it stands for, in one more diagnostic of its code: for
    its file where some of that code in that file were kept, else for the tree."""

    def __init__(self, diagnostics: Iterable[Diagnostic] = ()) -> None:
        self.kept: list[Diagnostic] = []
        self.room = DIAGNOSTICS_KEPT
        self._listed: dict[tuple[str | None, str], int] = {}
        self._more: dict[tuple[str | None, str], tuple[int, Severity]] = {}
        self._elsewhere: dict[str, tuple[int, set[str | None], Severity]] = {}
        self.extend(diagnostics)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diag in diagnostics:
            key = (diag.file, diag.code)
            listed = self._listed.get(key, 0)
            if listed < MAX_KEPT and self.room >= DIAGNOSTIC:
                self.kept.append(diag)
                self._listed[key] = listed + 1
                self.room -= DIAGNOSTIC
            elif listed:
                count, worst = self._more.get(key, (0, diag.severity))
                self._more[key] = (count + 1, _graver(worst, diag.severity))
            else:
                count, files, worst = self._elsewhere.get(diag.code, (0, set(), diag.severity))
                files.add(diag.file)
                self._elsewhere[diag.code] = (count + 1, files, _graver(worst, diag.severity))

    def all(self) -> list[Diagnostic]:
        """What was kept, then the counts of what was not (so what silences a code
        silences its count too)."""
        hint = "fix the ones shown and run again"
        notices = [
            Diagnostic(
                severity,
                code,
                f"{count} more `{code}` problems in this file were found and are not listed",
                file=file,
                hint=hint,
            )
            for (file, code), (count, severity) in self._more.items()
        ]
        notices += [
            Diagnostic(
                severity,
                code,
                f"{count} `{code}` problems in {len(files)} more files were found and are not "
                f"listed (at most {DIAGNOSTICS_KEPT >> 20} MiB of diagnostics are kept)",
                hint=hint,
            )
            for code, (count, files, severity) in self._elsewhere.items()
        ]
        return [*self.kept, *notices]

    def cut_files(self) -> set[str | None]:
        """The files some findings of were counted, not kept."""
        return {file for file, _ in self._more}


def _graver(a: Severity, b: Severity) -> Severity:
    return a if _RANK[a] >= _RANK[b] else b
