"""``probe``: a cheap request to every provider, through the clients services use."""

from __future__ import annotations

from ..runtime._probe import probe
from ._args import Args
from ._formats import PROBE_FORMATS
from ._inputs import registry
from ._outcome import OK, PROBLEMS


def run(args: Args) -> int:
    results = probe(registry(args, args.provider, strict=True), timeout=args.timeout)
    print(PROBE_FORMATS[args.format or "text"](results))
    return OK if all(r.ok for r in results if r.probed) else PROBLEMS
