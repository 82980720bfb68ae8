"""Command line: parse options, run one command, map the outcome to an exit code.

Exit codes: 0 ok, 1 problems in the configuration (or an unresolved model),
2 usage or I/O errors (a missing path, an unwritable output file).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ._discover import DEFAULT_PATHS, MAX_FILE_BYTES
from ._errors import ConfigError, Diagnostic, InputError, ResolveError, Severity
from ._reporters import REPORTERS, TextReporter, resolve_format
from ._secrets import MASK, mask_headers
from ._version import __version__

if TYPE_CHECKING:
    from ._compile import Call
    from ._pipeline import Compilation
    from ._registry import Registry

# The stages are imported by the commands that use them: `validate` answered from the
# cache loads none of the YAML, schema or compile machinery.

OK, PROBLEMS, USAGE, INTERNAL = 0, 1, 2, 70
DIFF_FORMATS = ("json", "markdown", "text")  # _diff.RENDERERS, without importing it


def _paths(values: Sequence[str] | None) -> list[str]:
    return list(values) if values else list(DEFAULT_PATHS)


def _dump(data: Any, stream: TextIO) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False), file=stream)


def _fail(diagnostics: Sequence[Diagnostic], files: int, *, input_error: bool) -> int:
    TextReporter(sys.stderr).report(diagnostics, ok=False, files=files)
    return USAGE if input_error else PROBLEMS


def _compiled(args: argparse.Namespace) -> tuple[Compilation, int | None]:
    """Compile; on errors report them to stderr and return the exit code."""
    compilation = _compile(args)
    if compilation.ok:
        return compilation, None
    code = _fail(
        compilation.errors, len(compilation.discovery.files), input_error=compilation.input_failed
    )
    return compilation, code


def _compile(args: argparse.Namespace) -> Compilation:
    from ._pipeline import compile_paths

    paths = getattr(args, "paths", None) or getattr(args, "config", None)
    return compile_paths(_paths(paths), max_file_bytes=args.max_file_bytes)


def _rendered(args: argparse.Namespace) -> tuple[tuple[Call, ...] | None, int]:
    """Compile and render against the environment; on problems report them, give the code."""
    from ._build import render_or_raise

    compilation, code = _compiled(args)
    if code is not None:
        return None, code
    try:
        return render_or_raise(compilation.calls, os.environ), OK
    except ConfigError as exc:
        return None, _fail(exc.diagnostics, len(compilation.discovery.files), input_error=False)


def _registry(args: argparse.Namespace) -> tuple[Registry | None, int]:
    from ._build import build_registry

    rendered, code = _rendered(args)
    if rendered is None:
        return None, code
    # The CLI reports on configuration; it does not run protocol code.
    return build_registry(rendered, import_handlers=False), OK


# -- commands ------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from . import _cache

    paths = _paths(args.paths)
    key = None if args.no_cache else _cache.tree_key(paths, args.max_file_bytes)
    cached = _cache.load(key) if key else None
    input_failed = False
    if cached is not None:
        diagnostics, files = cached
    else:
        compilation = _compile(args)
        diagnostics, files = compilation.diagnostics, len(compilation.discovery.files)
        input_failed = compilation.input_failed
        if key and not input_failed:
            _cache.store(key, diagnostics, files)
    errors = any(d.severity is Severity.ERROR for d in diagnostics)
    failed = errors or (args.strict and bool(diagnostics))
    reporter = REPORTERS[resolve_format(args.format)](sys.stdout)
    reporter.report(diagnostics, ok=not failed, files=files)
    if input_failed:
        return USAGE
    return PROBLEMS if failed else OK


def cmd_check_env(args: argparse.Namespace) -> int:
    from ._compile import render_calls

    compilation, code = _compiled(args)
    if code is not None:
        return code
    _, problems = render_calls(compilation.calls, os.environ)
    files = len(compilation.discovery.files)
    ordered = sorted(problems, key=Diagnostic.sort_key)
    REPORTERS[resolve_format(args.format)](sys.stdout).report(ordered, ok=not problems, files=files)
    return PROBLEMS if problems else OK


def cmd_compile(args: argparse.Namespace) -> int:
    from ._artifact import artifact_problems, artifact_text

    compilation, code = _compiled(args)
    if code is not None:
        return code
    problems = artifact_problems(compilation)
    if problems:
        return _fail(problems, len(compilation.discovery.files), input_error=False)
    text = artifact_text(compilation, __version__)
    if args.output in (None, "-"):
        sys.stdout.write(text)  # exactly the checksummed bytes
        return OK
    tmp = f"{args.output}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, args.output)  # readers never see a half-written artifact
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        print(f"flue-decl: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return USAGE
    print(f"wrote {args.output}: {len(compilation.calls)} calls", file=sys.stderr)
    return OK


def cmd_calls(args: argparse.Namespace) -> int:
    rendered, code = _rendered(args)
    if rendered is None:
        return code
    _dump({"calls": [c.to_replay(show_secrets=args.show_secrets) for c in rendered]}, sys.stdout)
    return OK


def _mask_key(key: str | None, show: bool) -> str | None:
    from ._registry import AUTHENTICATED

    return key if show or not key or key == AUTHENTICATED else MASK


def resolve_result(registry: Registry, spec: str, *, show_secrets: bool) -> dict[str, Any]:
    """One entry of ``resolve``'s output, in replay.mjs's result shape."""
    try:
        model = registry.resolve_model(spec).to_dict()
    except ResolveError as exc:
        return {"spec": spec, "ok": False, "error": exc.diagnostics[0].message}
    if not show_secrets and isinstance(model.get("headers"), dict):
        model["headers"] = mask_headers(model["headers"])
    return {
        "spec": spec,
        "ok": True,
        "model": model,
        "apiKey": _mask_key(registry.api_key(spec), show_secrets),
        "storeResponses": registry.store_responses(spec),
    }


def cmd_resolve(args: argparse.Namespace) -> int:
    registry, code = _registry(args)
    if registry is None:
        return code
    results = [
        resolve_result(registry, spec, show_secrets=args.show_secrets) for spec in args.specs
    ]
    _dump({"results": results}, sys.stdout)
    return OK if all(r["ok"] for r in results) else PROBLEMS


def cmd_explain(args: argparse.Namespace) -> int:
    from ._explain import explain

    registry, code = _registry(args)
    if registry is None:
        return code
    try:
        rows = explain(registry, args.spec, show_secrets=args.show_secrets)
    except ResolveError as exc:
        print(f"flue-decl: {exc.diagnostics[0].message}", file=sys.stderr)
        return PROBLEMS
    if args.format == "json":
        _dump(
            {
                "spec": args.spec,
                "fields": [
                    {
                        "field": r.field,
                        "value": r.value,
                        "source": r.source,
                        "file": r.origin.place.file if r.origin else None,
                        "line": r.origin.place.line if r.origin else None,
                        "layer": r.origin.layer_root if r.origin else None,
                        "overlay": r.origin.overlay if r.origin else None,
                    }
                    for r in rows
                ],
            },
            sys.stdout,
        )
        return OK
    print(args.spec)
    width = max(len(r.field) for r in rows)
    for row in rows:
        value = json.dumps(row.value, ensure_ascii=False)
        if len(value) > 60:
            value = value[:57] + "..."
        where = f"  [{row.where()}]" if row.origin else ""
        print(f"  {row.field:<{width}}  {value}")
        print(f"  {'':<{width}}    ← {row.source}{where}")
    return OK


def _display_url(value: Any) -> str:
    from ._render import is_template, render

    if not isinstance(value, str):
        return ""
    if is_template(value):
        rendered = render(value, os.environ)
        return rendered.value if rendered.value is not None else value
    return value


def _list_entries(compilation: Compilation, with_catalog: bool) -> list[dict[str, Any]]:
    """One entry per provider (and per declared api), with its models' effective limits."""
    from ._catalog import builtin_catalog

    entries: list[dict[str, Any]] = []
    registered = {c.target: c for c in compilation.calls if c.op == "registerProvider"}
    configured = {c.target: c for c in compilation.calls if c.op == "configureProvider"}
    catalog = builtin_catalog()

    def source(call: Call) -> str:
        origin = call.origins.get(())
        return f"{origin.place.file}:{origin.place.line}" if origin else ""

    for call in compilation.calls:
        payload = call.payload
        if call.op == "registerApiProvider":
            entries.append(
                {
                    "id": call.target,
                    "kind": "api",
                    "handler": payload.get("handler"),
                    "source": source(call),
                }
            )
            continue
        conf = configured.get(call.target)
        if call.op == "registerProvider":
            base = (conf.payload.get("baseUrl") if conf else None) or payload.get("baseUrl", "")
            entry: dict[str, Any] = {
                "id": call.target,
                "kind": "registered" + (" + configured" if conf else ""),
                "api": payload.get("api"),
                "baseUrl": _display_url(base),
                "source": source(call),
            }
            if payload.get("api") == "cloudflare-ai-binding":
                entry["binding"] = payload.get("binding")
                entry["models"] = "any Workers AI model ID (catalog metadata when known)"
            else:
                default = {
                    "contextWindow": payload.get("contextWindow", 0),
                    "maxTokens": payload.get("maxTokens", 0),
                }
                entry["defaults"] = default
                entry["models"] = {
                    m: {**default, **o} for m, o in (payload.get("models") or {}).items()
                }
            entries.append(entry)
        elif call.target not in registered:
            models = catalog.models(call.target)
            base = payload.get("baseUrl") or next((m["baseUrl"] for m in models.values()), "")
            entries.append(
                {
                    "id": call.target,
                    "kind": "configured built-in",
                    "api": ", ".join(sorted({str(m["api"]) for m in models.values()})),
                    "baseUrl": _display_url(base),
                    "source": source(call),
                    "models": f"{len(models)} catalog models",
                    "storeResponses": payload.get("storeResponses", False),
                }
            )
    if with_catalog:
        for provider, data in catalog.providers.items():
            if provider in registered or provider in configured:
                continue
            models = data["models"]
            entries.append(
                {
                    "id": provider,
                    "kind": "built-in",
                    "api": ", ".join(sorted({str(m["api"]) for m in models.values()})),
                    "baseUrl": next((str(m["baseUrl"]) for m in models.values()), ""),
                    "source": "catalog",
                    "models": f"{len(models)} catalog models",
                }
            )
    return entries


def cmd_list(args: argparse.Namespace) -> int:
    compilation, code = _compiled(args)
    if code is not None:
        return code
    entries = _list_entries(compilation, args.catalog)
    if args.format == "json":
        _dump({"providers": entries}, sys.stdout)
        return OK
    for entry in entries:
        if entry["kind"] == "api":
            print(f"api {entry['id']}  (protocol {entry['handler']})  {entry['source']}")
            continue
        print(
            f"{entry['id']}  [{entry['kind']}, {entry['api']}]  {entry['baseUrl'] or '-'}"
            f"  {entry['source']}"
        )
        models = entry.get("models")
        if isinstance(models, dict):
            rows = [("(any other)", entry["defaults"]), *models.items()]
            width = max(len(name) for name, _ in rows)
            for name, limits in rows:
                print(
                    f"    {name:<{width}}  context {limits['contextWindow']:>8}"
                    f"  max output {limits['maxTokens']:>6}"
                )
        else:
            extra = f", binding {entry['binding']}" if entry.get("binding") else ""
            store = ", storeResponses" if entry.get("storeResponses") else ""
            print(f"    {models}{extra}{store}")
    files = len(compilation.discovery.files)
    print(f"\n{len(compilation.calls)} registry calls from {files} file{'s' if files != 1 else ''}")
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    from ._diff import RENDERERS, diff_paths

    try:
        result = diff_paths(args.old, args.new)
    except ConfigError as exc:
        # Exit 1 means "different": a side that cannot be read is a usage/I-O problem.
        return _fail(exc.diagnostics, 0, input_error=True)
    print(RENDERERS[args.format](result))
    return OK if result.equal else PROBLEMS


def cmd_probe(args: argparse.Namespace) -> int:
    from ._probe import probe, render_json, render_text

    registry, code = _registry(args)
    if registry is None:
        return code
    results = probe(registry, timeout=args.timeout)
    if args.format == "json":
        _dump(render_json(results), sys.stdout)
    else:
        print(render_text(results))
    return OK if all(r.ok for r in results) else PROBLEMS


def cmd_schema(args: argparse.Namespace) -> int:
    from ._schema import bundled_schema

    _dump(bundled_schema(), sys.stdout)
    return OK


# -- parser --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flue-decl",
        description="Compile and check providers.d YAML into Flue provider registry calls.",
    )
    parser.add_argument("--version", action="version", version=f"flue-decl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, func: Callable[[argparse.Namespace], int], help_: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    def config(p: argparse.ArgumentParser) -> None:
        limits(p)
        p.add_argument(
            "-c",
            "--config",
            action="append",
            metavar="PATH",
            help="configuration path; repeat for layers (default: providers.d)",
        )
        p.add_argument("--show-secrets", action="store_true", help="print API keys in clear")

    def formats(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--format",
            choices=[*REPORTERS, "auto"],
            default="auto",
            help="output format; auto (the default) is github under GitHub Actions, else text",
        )

    def limits(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--max-file-bytes",
            type=int,
            default=MAX_FILE_BYTES,
            metavar="N",
            help=f"refuse files larger than N bytes (default {MAX_FILE_BYTES})",
        )

    def paths(p: argparse.ArgumentParser) -> None:
        limits(p)
        p.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help="directories or files, in layer order (default: providers.d)",
        )

    p = command("validate", cmd_validate, "schema and semantic checks, every problem at once")
    paths(p)
    formats(p)
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="validate from scratch (default: reuse the result for an unchanged tree)",
    )

    p = command(
        "check-env",
        cmd_check_env,
        "render every template against the environment; report every missing variable",
    )
    paths(p)
    formats(p)

    p = command("compile", cmd_compile, "write the compiled artifact (templates unrendered)")
    paths(p)
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")

    p = command("calls", cmd_calls, "print the rendered registry calls as JSON")
    paths(p)
    p.add_argument("--show-secrets", action="store_true", help="print API keys in clear")

    p = command("resolve", cmd_resolve, "resolve model specifiers like Flue's runtime does")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="provider-id/model-id")
    config(p)

    p = command("explain", cmd_explain, "every effective field of a model and what set it")
    p.add_argument("spec", metavar="SPEC")
    config(p)
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = command("list", cmd_list, "a table of the configured providers and models")
    paths(p)
    p.add_argument("--catalog", action="store_true", help="include untouched built-in providers")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = command(
        "diff", cmd_diff, "the effective change between two configurations (paths or artifacts)"
    )
    p.add_argument("old", metavar="OLD", help="providers.d path or compiled artifact (.json)")
    p.add_argument("new", metavar="NEW", help="providers.d path or compiled artifact (.json)")
    p.add_argument("--format", choices=DIFF_FORMATS, default="text")

    p = command(
        "probe",
        cmd_probe,
        "call a cheap endpoint of every provider: reachability, auth and latency",
    )
    paths(p)
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="per-provider timeout in seconds (default 10)",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")

    command("schema", cmd_schema, "print the JSON Schema for providers.d documents")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ._build import cyclic_gc_paused

    args = build_parser().parse_args(argv)
    # A command is one short pass over a large, acyclic graph: without the cyclic
    # collector a 10,000-file compile takes two thirds of the time.
    with cyclic_gc_paused():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
    except InputError as exc:
        return _fail(exc.diagnostics, 0, input_error=True)
    except ConfigError as exc:
        return _fail(exc.diagnostics, 0, input_error=False)
    except BrokenPipeError:
        return OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: never a traceback (its text could hold a value)
        if os.environ.get("FLUE_DECL_DEBUG") == "1":
            raise
        print(
            f"flue-decl: internal error ({type(exc).__name__}); please report it with "
            "FLUE_DECL_DEBUG=1 set to see the details",
            file=sys.stderr,
        )
        return INTERNAL
    return code
