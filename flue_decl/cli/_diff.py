"""``diff``: the effective change between two configurations, each a providers.d path or a
compiled artifact."""

from __future__ import annotations

import argparse

from .._errors import ConfigError
from .._load import calls_of
from ..views import diff_calls
from ._formats import DIFF_FORMATS
from ._outcome import OK, PROBLEMS, fail


def run(args: argparse.Namespace) -> int:
    try:
        result = diff_calls(calls_of(args.old), calls_of(args.new))
    except ConfigError as exc:
        # Exit 1 means "different": a side that cannot be read is a usage/I-O problem.
        return fail(exc.diagnostics, 0, input_error=True)
    print(DIFF_FORMATS[args.format](result))
    return OK if result.equal else PROBLEMS
