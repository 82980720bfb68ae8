"""``validate``: every problem of a tree at once, answered from the cache when unchanged
(and replayed before anything is imported when nothing it read changed: ``_replay``)."""

from __future__ import annotations

import io
import sys
import time

from .._errors import Severity
from . import _cache
from ._args import Args
from ._options import jobs, options
from ._outcome import OK, PROBLEMS, USAGE
from ._reporters import REPORTERS, resolve_format, use_color


def run(args: Args) -> int:
    started = time.time_ns()
    settings = options(args)
    paths = list(settings.layers())
    key, found = (None, None) if args.no_cache else _cache.tree_key(paths, settings)
    if key is not None:
        distrust = _cache.untrusted(str(_cache.cache_dir()))
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

        compilation = compile_paths(settings=settings, jobs=jobs(args))
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
    # Reported as a whole, then written: the same text is kept for a replay.
    report = io.StringIO()
    reporter = REPORTERS[resolve_format(settings.format)](report, color=use_color(sys.stdout))
    reporter.report(diagnostics, ok=not failed, files=files)
    output = report.getvalue()
    sys.stdout.write(output)
    code = USAGE if input_failed else PROBLEMS if failed else OK
    # Recorded for a replay (not a run that said something on stderr: that is not kept).
    if key and found is not None and not input_failed and args.argv and not args.noted:
        _cache.remember(
            args.argv, settings=settings, found=found, code=code, output=output, started=started
        )
    return code
