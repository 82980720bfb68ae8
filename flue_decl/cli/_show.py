"""The commands that show a compiled tree: ``calls``, ``resolve``, ``explain``, ``list`` and
``schema``. Each computes its view (``flue_decl.views``) and prints it in the format asked."""

from __future__ import annotations

import os
import sys

from .._catalog import builtin_catalog
from .._errors import ResolveError
from ..compiler import bundled_schema
from ..runtime import Registry, render_or_raise, select_calls
from ..runtime._secretfiles import SecretFiles
from ..templates import Namespace
from ..views import explain, listing, model_rows, resolve_result, unrendered_registry
from ._args import Args
from ._formats import EXPLAIN_FORMATS, LIST_FORMATS, MODEL_FORMATS, as_json, inert
from ._inputs import compiled, named_providers, registry
from ._options import options
from ._outcome import OK, PROBLEMS


def calls(args: Args) -> int:
    secrets = SecretFiles(options(args).secrets_dir)
    rendered = render_or_raise(compiled(args).calls, os.environ, secrets)
    print(as_json({"calls": [c.to_replay(show_secrets=args.show_secrets) for c in rendered]}))
    return OK


def resolve(args: Args) -> int:
    reg = registry(args, named_providers(args.specs))
    results = [resolve_result(reg, spec, show_secrets=args.show_secrets) for spec in args.specs]
    print(as_json({"results": results}))  # the runtime's own error text: hints go to stderr
    for spec, result in zip(args.specs, results, strict=True):
        hint = None if result["ok"] else _hint(reg, spec)
        if hint:
            print(inert([f"flue-decl: {spec}: {hint}"]), file=sys.stderr)
    return OK if all(r["ok"] for r in results) else PROBLEMS


def _hint(reg: Registry, spec: str) -> str | None:
    try:
        reg.resolve_model(spec)
    except ResolveError as exc:
        return exc.diagnostics[0].hint
    return None


def explain_model(args: Args) -> int:
    reg = registry(args, named_providers([args.spec]), review=True)
    try:
        seen = Namespace(os.environ, SecretFiles(options(args).secrets_dir))
        rows = explain(reg, args.spec, show_secrets=args.show_secrets, environment=seen)
    except ResolveError as exc:
        # The caller's specifier and did-you-mean names from files: shown inert.
        print(inert([f"flue-decl: {exc.diagnostics[0].message}"]), file=sys.stderr)
        if exc.diagnostics[0].hint:
            print(inert([f"    hint: {exc.diagnostics[0].hint}"]), file=sys.stderr)
        return PROBLEMS
    print(EXPLAIN_FORMATS[args.format or "text"]((args.spec, rows)))
    return OK


def list_providers(args: Args) -> int:
    compilation = compiled(args)
    entries = listing(
        unrendered_registry(compilation.calls), env=os.environ, with_catalog=args.catalog
    )
    files = compilation.files
    plural = "s" if files != 1 else ""
    count = len(compilation.calls)
    closing = f"{count} registry call{'s' if count != 1 else ''} from {files} file{plural}"
    print(LIST_FORMATS[args.format or "text"]((entries, closing)))
    return OK


def models(args: Args) -> int:
    compilation = compiled(args)
    if args.provider:  # an ID neither declared nor built in: said, with a did-you-mean
        select_calls(compilation.calls, args.provider, builtin_catalog())
    rows = model_rows(
        unrendered_registry(compilation.calls),
        providers=set(args.provider) if args.provider else None,
        with_catalog=args.catalog or bool(args.provider),
    )
    print(MODEL_FORMATS[args.format or "text"](rows))
    return OK


def schema(args: Args) -> int:
    print(as_json(bundled_schema()))
    return OK
