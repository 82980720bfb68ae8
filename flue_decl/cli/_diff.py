"""``diff``: the effective change between two configurations, each a providers.d path or a
compiled artifact."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .._errors import ConfigError
from .._load import calls_of
from ..views import diff_calls
from ._args import Args
from ._formats import DIFF_FORMATS
from ._gitref import tree_at
from ._options import options
from ._outcome import OK, PROBLEMS, USAGE, fail


def run(args: Args) -> int:
    if args.old_ref or args.new_ref:
        return _at_refs(args)
    old = [*([args.old] if args.old else []), *(args.old_layers or [])]
    new = [*([args.new] if args.new else []), *(args.new_layers or [])]
    if not old or not new:
        print(
            "flue-decl diff: give OLD and NEW, or --old PATH... and --new PATH..., or "
            "--old-ref REF [PATH...]",
            file=sys.stderr,
        )
        return USAGE
    return _compare(args, lambda: old, lambda: new)


def _at_refs(args: Args) -> int:
    """``--old-ref REF [--new-ref REF] [PATH...]``: the same paths (default: the settings'
    layers) at a commit, against the working tree or another commit."""
    if args.old_layers or args.new_layers:
        print("flue-decl diff: --old/--new and --old-ref/--new-ref exclude each other",
              file=sys.stderr)
        return USAGE
    with tempfile.TemporaryDirectory(prefix="flue-decl-diff-") as scratch:

        def side(ref: str | None, name: str) -> list[str]:
            paths = [p for p in (args.old, args.new) if p] or list(options(args).layers())
            if ref is None:
                return paths
            return tree_at(ref, paths, Path(scratch) / name, options(args).max_file_bytes)

        return _compare(args, lambda: side(args.old_ref, "old"), lambda: side(args.new_ref, "new"))


def _compare(args: Args, old: Callable[[], list[str]], new: Callable[[], list[str]]) -> int:
    try:
        settings = options(args)
        result = diff_calls(calls_of(old(), settings), calls_of(new(), settings))
    except ConfigError as exc:
        # Exit 1 means "different": a side that cannot be read is a usage/I-O problem.
        return fail(exc.diagnostics, None, input_error=True)
    print(DIFF_FORMATS[args.format or "text"](result))
    return OK if result.equal else PROBLEMS
