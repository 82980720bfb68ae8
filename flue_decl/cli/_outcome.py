"""Exit codes, and how a command that cannot go on says why.

0 ok, 1 problems in the configuration (or an unresolved model, or a difference for
``diff``), 2 usage or I/O errors (a missing path, an unwritable output file), 70 a bug.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .._errors import Diagnostic
from ._reporters import TextReporter

OK, PROBLEMS, USAGE, INTERNAL = 0, 1, 2, 70


def fail(diagnostics: Sequence[Diagnostic], files: int | None, *, input_error: bool) -> int:
    """Report ``diagnostics`` on stderr; the exit code for them."""
    TextReporter(sys.stderr).report(diagnostics, ok=False, files=files)
    return USAGE if input_error else PROBLEMS
