"""What the commands show, computed from a Registry or from calls: ``explain``'s rows,
``list``'s entries, ``resolve``'s results and ``diff``'s comparison. Formatting them is the
command line's; nothing here imports the compiler.
"""

from ._diff import Diff, compare, diff_calls, effective, reviewed_registry, unrendered_registry
from ._explain import Row, explain
from ._listing import display_url, listing, model_rows
from ._resolve import resolve_result

__all__ = [
    "Diff",
    "Row",
    "compare",
    "diff_calls",
    "display_url",
    "effective",
    "explain",
    "listing",
    "model_rows",
    "resolve_result",
    "reviewed_registry",
    "unrendered_registry",
]
