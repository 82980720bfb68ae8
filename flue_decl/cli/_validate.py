"""``validate``: every problem of a tree at once, answered from the cache when unchanged."""

from __future__ import annotations

import sys

from .._errors import Severity
from . import _cache
from ._args import Args
from ._options import options
from ._outcome import OK, PROBLEMS, USAGE
from ._reporters import REPORTERS, resolve_format


def run(args: Args) -> int:
    settings = options(args)
    paths = list(settings.layers())
    key = None if args.no_cache else _cache.tree_key(paths, settings)  # to look up by
    if key is not None:
        distrust = _cache.untrusted(_cache.cache_dir())
        if distrust is not None:
            print(f"flue-decl: note: not using the validation cache: {distrust}", file=sys.stderr)
            key = None
    cached = _cache.load(key) if key else None
    input_failed = False
    if cached is not None:
        diagnostics, files = cached
    else:
        # Only a miss compiles: an unchanged tree is answered without loading the compiler.
        from ..compiler import compile_paths

        compilation = compile_paths(settings=settings)
        diagnostics, files = compilation.diagnostics, compilation.files
        input_failed = compilation.input_failed
        if key and not input_failed:
            validated = _cache.validated_key(
                paths, settings, compilation.discovery, compilation.hashes
            )
            if validated is not None:
                _cache.store(validated, diagnostics, files)
    reported = [d for d in diagnostics if d.suppressed is None]
    errors = any(d.severity is Severity.ERROR for d in reported)
    warned = any(d.severity is Severity.WARNING for d in reported)
    failed = errors or (settings.strict and warned)
    reporter = REPORTERS[resolve_format(settings.format)](sys.stdout)
    reporter.report(diagnostics, ok=not failed, files=files)
    if input_failed:
        return USAGE
    return PROBLEMS if failed else OK
