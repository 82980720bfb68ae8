"""The commands that show a compiled tree: ``calls``, ``resolve``, ``explain``, ``list`` and
``schema``. Each computes its view (``flue_decl.views``) and prints it in the format asked."""

from __future__ import annotations

import argparse
import os
import sys

from .._errors import ResolveError
from ..compiler import bundled_schema
from ..runtime import render_or_raise
from ..views import explain, listing, resolve_result, unrendered_registry
from ._formats import EXPLAIN_FORMATS, LIST_FORMATS, as_json
from ._inputs import compiled, named_providers, registry
from ._outcome import OK, PROBLEMS


def calls(args: argparse.Namespace) -> int:
    rendered = render_or_raise(compiled(args).calls, os.environ)
    print(as_json({"calls": [c.to_replay(show_secrets=args.show_secrets) for c in rendered]}))
    return OK


def resolve(args: argparse.Namespace) -> int:
    reg = registry(args, named_providers(args.specs))
    results = [resolve_result(reg, spec, show_secrets=args.show_secrets) for spec in args.specs]
    print(as_json({"results": results}))
    return OK if all(r["ok"] for r in results) else PROBLEMS


def explain_model(args: argparse.Namespace) -> int:
    reg = registry(args, named_providers([args.spec]))
    try:
        rows = explain(reg, args.spec, show_secrets=args.show_secrets)
    except ResolveError as exc:
        print(f"flue-decl: {exc.diagnostics[0].message}", file=sys.stderr)
        return PROBLEMS
    print(EXPLAIN_FORMATS[args.format]((args.spec, rows)))
    return OK


def list_providers(args: argparse.Namespace) -> int:
    compilation = compiled(args)
    entries = listing(
        unrendered_registry(compilation.calls), env=os.environ, with_catalog=args.catalog
    )
    files = compilation.files
    plural = "s" if files != 1 else ""
    closing = f"{len(compilation.calls)} registry calls from {files} file{plural}"
    print(LIST_FORMATS[args.format]((entries, closing)))
    return OK


def schema(args: argparse.Namespace) -> int:
    print(as_json(bundled_schema()))
    return OK
