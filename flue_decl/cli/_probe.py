"""``probe``: a cheap request to every provider, through the clients services use."""

from __future__ import annotations

from ..runtime import handler_allow_list
from ..runtime._probe import probe
from ._args import Args
from ._formats import PROBE_FORMATS
from ._inputs import registry
from ._options import options
from ._outcome import OK, PROBLEMS


def run(args: Args) -> int:
    # Custom wire protocols are spoken by their handlers: imported as a service imports
    # them, from the modules the allow-list names. With no list, none is imported, and
    # their providers are reported as not probed (with the hint to name one).
    allowed = handler_allow_list(options(args).handler_modules)
    served = registry(args, args.provider, strict=True, import_handlers=bool(allowed))
    results = probe(served, timeout=args.timeout)
    print(PROBE_FORMATS[args.format or "text"](results))
    return OK if all(r.ok for r in results if r.probed) else PROBLEMS
