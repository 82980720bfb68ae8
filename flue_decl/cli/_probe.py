"""``probe``: a cheap request to every provider, through the clients services use."""

from __future__ import annotations

import argparse

from ..runtime._probe import probe
from ._formats import PROBE_FORMATS
from ._inputs import registry
from ._outcome import OK, PROBLEMS


def run(args: argparse.Namespace) -> int:
    results = probe(registry(args, args.provider, strict=True), timeout=args.timeout)
    print(PROBE_FORMATS[args.format](results))
    return OK if all(r.ok for r in results if r.probed) else PROBLEMS
