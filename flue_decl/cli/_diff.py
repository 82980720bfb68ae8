"""``diff``: the effective change between two configurations, each a providers.d path or a
compiled artifact."""

from __future__ import annotations

import sys

from .._errors import ConfigError
from .._load import calls_of
from ..views import diff_calls
from ._args import Args
from ._formats import DIFF_FORMATS
from ._options import options
from ._outcome import OK, PROBLEMS, USAGE, fail


def run(args: Args) -> int:
    old = [*([args.old] if args.old else []), *(args.old_layers or [])]
    new = [*([args.new] if args.new else []), *(args.new_layers or [])]
    if not old or not new:
        print(
            "flue-decl diff: give OLD and NEW, or --old PATH... and --new PATH...", file=sys.stderr
        )
        return USAGE
    try:
        settings = options(args)
        result = diff_calls(calls_of(old, settings), calls_of(new, settings))
    except ConfigError as exc:
        # Exit 1 means "different": a side that cannot be read is a usage/I-O problem.
        return fail(exc.diagnostics, None, input_error=True)
    print(DIFF_FORMATS[args.format or "text"](result))
    return OK if result.equal else PROBLEMS
