"""A compile's diagnostics as they are found, kept within bounds (see :class:`Found`)."""

from __future__ import annotations

from collections.abc import Iterable

from .._errors import Diagnostic, Severity
from ._budget import DIAGNOSTIC, TreeBudget

MAX_KEPT = 1000  # diagnostics of one code in one file; what is shown is 100 a file
_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class Found:
    """A compile's diagnostics as they are found: at most ``MAX_KEPT`` of one code in one
    file (300,000 `yaml11-boolean` warnings in a dense file would hold a gigabyte, and
    the first 100 of a file are what is shown), each charged ``DIAGNOSTIC`` bytes to the
    tree's budget (``_budget``; 200 small files of unknown keys held 110 MB of them).
    Past the budget only the first of each code in a file is kept. The rest are counted,
    and said, one more diagnostic of that code for each file and code."""

    def __init__(self, tree: TreeBudget, diagnostics: Iterable[Diagnostic] = ()) -> None:
        self.tree = tree
        self.kept: list[Diagnostic] = []
        self._seen: dict[tuple[str | None, str], int] = {}
        self._listed: dict[tuple[str | None, str], int] = {}
        self._unlisted: dict[tuple[str | None, str], Severity] = {}
        self.extend(diagnostics)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        tree = self.tree
        for diag in diagnostics:
            key = (diag.file, diag.code)
            self._seen[key] = self._seen.get(key, 0) + 1
            listed = self._listed.get(key, 0)
            if not listed or (listed < MAX_KEPT and tree.used + DIAGNOSTIC <= tree.limit):
                self.kept.append(diag)
                self._listed[key] = listed + 1
                tree.used += DIAGNOSTIC
            else:  # the count is as grave as the gravest it stands for
                worst = self._unlisted.get(key)
                if worst is None or _RANK[diag.severity] > _RANK[worst]:
                    self._unlisted[key] = diag.severity

    def all(self) -> list[Diagnostic]:
        """What was kept, then for each code and file that had more, one more of that code
        that says how many (so what silences the code silences it too)."""
        notices = [
            Diagnostic(
                severity,
                code,
                f"{self._seen[file, code] - self._listed[file, code]} more `{code}` problems "
                "in this file were found and are not listed",
                file=file,
                hint="fix the ones shown and run again",
            )
            for (file, code), severity in self._unlisted.items()
        ]
        return [*self.kept, *notices]

    def cut_files(self) -> set[str | None]:
        """The files some findings of were counted, not kept."""
        return {file for file, _ in self._unlisted}
