"""The command line's options: every command, its arguments and their checks."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from .._discover import MAX_FILE_BYTES
from .._version import __version__
from ._args import Args
from ._formats import DIFF_FORMATS, EXPLAIN_FORMATS, LIST_FORMATS, MODEL_FORMATS, PROBE_FORMATS
from ._needs import K8S_DEFAULT, NEEDS_FORMATS
from ._reporters import REPORTERS


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with ``only`` one command's options: argparse makes a
    help formatter (and asks the terminal its size) for every option it is given, so
    building all fifteen commands' took more time than a cached ``validate`` otherwise
    needs. A command's own parser is the same either way (its ``--help`` and errors)."""
    parser = argparse.ArgumentParser(
        prog="flue-decl",
        description="Compile and check providers.d YAML into Flue provider registry calls.",
    )
    parser.add_argument("--version", action="version", version=f"flue-decl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_, add_options) in COMMANDS.items():
        if only is not None and name != only:
            continue
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(command=name)
        where = p.add_mutually_exclusive_group()
        where.add_argument(
            "--settings",
            metavar="FILE",
            help="read settings from FILE (flue-decl.toml, or pyproject.toml's "
            "[tool.flue-decl]) instead of the nearest one found from the current directory",
        )
        where.add_argument("--isolated", action="store_true", help="ignore every settings file")
        add_options(p)
    return parser


def _config(p: argparse.ArgumentParser) -> None:
    _limits(p)
    p.add_argument(
        "-c",
        "--config",
        action="append",
        metavar="PATH",
        help="configuration path, as the positional paths; repeat for layers",
    )
    p.add_argument("--show-secrets", action="store_true", help="print API keys in clear")


def _formats(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=[*REPORTERS, "auto"],
        help="output format (default: the settings' format, else auto: github under "
        "GitHub Actions, else text)",
    )


def _limits(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-file-bytes",
        type=_positive_int,
        metavar="N",
        help=f"refuse files larger than N bytes (default {MAX_FILE_BYTES})",
    )
    p.add_argument(
        "--known-provider",
        action="append",
        metavar="ID",
        help="a provider the service registers in its own code, which configurations may "
        "target; repeat for several",
    )
    p.add_argument(
        "--jobs",
        type=_positive_int,
        metavar="N",
        help="parse a large tree in up to N processes (default: the CPUs this process may "
        "use, at most 4; 1: one process)",
    )


def _provider_option(p: argparse.ArgumentParser, help_: str) -> None:
    p.add_argument("--provider", action="append", metavar="ID", help=f"{help_}; repeat for several")


def _paths(p: argparse.ArgumentParser) -> None:
    _limits(p)
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="directories or files, in layer order (default: the settings' paths, "
        "else providers.d)",
    )


def _strict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fail on warnings too (--no-strict: not even if the settings say so)",
    )


def _handler_modules(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--handler-modules",
        metavar="PREFIXES",
        help="comma-separated module prefixes handlers may come from, as the service "
        "passes them (default: the settings' handler-modules, else "
        "FLUE_DECL_HANDLER_MODULES)",
    )


def _cmd_validate(p: argparse.ArgumentParser) -> None:
    _paths(p)
    _formats(p)
    _strict(p)
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="validate from scratch (default: reuse the result for an unchanged tree)",
    )


def _cmd_check_env(p: argparse.ArgumentParser) -> None:
    _paths(p)
    _formats(p)
    _provider_option(p, "check only what these providers need (one service's providers)")


def _cmd_compile(p: argparse.ArgumentParser) -> None:
    _paths(p)
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")
    p.add_argument(
        "--sign-key-env",
        metavar="NAME",
        help="sign the artifact with HMAC-SHA256, keyed by the environment variable NAME; "
        "services verify it with load_artifact(verify_key=...) or FLUE_DECL_ARTIFACT_KEY",
    )


def _cmd_emit(p: argparse.ArgumentParser) -> None:
    _paths(p)
    p.add_argument(
        "--target",
        choices=["flue-js", "flue-ts"],
        required=True,
        help="flue-js: an ES module; flue-ts: the same, typed with @flue/runtime's types",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")


def _cmd_calls(p: argparse.ArgumentParser) -> None:
    _paths(p)
    p.add_argument("--show-secrets", action="store_true", help="print API keys in clear")


def _cmd_resolve(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "specs",
        nargs="+",
        metavar="SPEC_OR_PATH",
        help="provider-id/model-id specifiers, then the configuration paths in layer order "
        "(an argument that exists on disk is a path; default: providers.d)",
    )
    _config(p)


def _cmd_explain(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", help="the model to explain: provider-id/model-id")
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="configuration paths in layer order (default: providers.d)",
    )
    _config(p)
    p.add_argument(
        "--format",
        choices=list(EXPLAIN_FORMATS),
        default="text",
        help="text for people, json for scripts",
    )


def _cmd_list(p: argparse.ArgumentParser) -> None:
    _paths(p)
    p.add_argument("--catalog", action="store_true", help="include untouched built-in providers")
    p.add_argument("--format", choices=list(LIST_FORMATS), default="text", help="output format")


def _cmd_diff(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "old", metavar="OLD", nargs="?", help="providers.d path or compiled artifact (.json)"
    )
    p.add_argument(
        "new", metavar="NEW", nargs="?", help="providers.d path or compiled artifact (.json)"
    )
    p.add_argument(
        "--old",
        dest="old_layers",
        nargs="+",
        metavar="PATH",
        help="the old side as layers in order (base, then overlays)",
    )
    p.add_argument(
        "--new",
        dest="new_layers",
        nargs="+",
        metavar="PATH",
        help="the new side as layers in order (base, then overlays)",
    )
    p.add_argument(
        "--old-ref",
        metavar="REF",
        help="the old side: the same paths (OLD and NEW name them; default: the settings' "
        "paths) as they were at git commit REF, read from git's objects",
    )
    p.add_argument(
        "--new-ref",
        metavar="REF",
        help="with --old-ref, the new side at git commit REF (default: the working tree)",
    )
    p.add_argument("--format", choices=list(DIFF_FORMATS), default="text", help="output format")


def _cmd_probe(p: argparse.ArgumentParser) -> None:
    _paths(p)
    p.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=10.0,
        metavar="S",
        help="per-provider timeout in seconds (default 10)",
    )
    p.add_argument("--format", choices=list(PROBE_FORMATS), default="text", help="output format")
    _provider_option(p, "probe only these providers")
    _handler_modules(p)


def _cmd_check_handlers(p: argparse.ArgumentParser) -> None:
    _paths(p)
    _formats(p)
    _handler_modules(p)
    p.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=60.0,
        metavar="S",
        help="give up importing after S seconds (default 60)",
    )


def _cmd_models(p: argparse.ArgumentParser) -> None:
    _paths(p)
    _provider_option(p, "only these providers' models (built-ins included)")
    p.add_argument(
        "--catalog", action="store_true", help="include every built-in provider's catalog models"
    )
    p.add_argument("--format", choices=list(MODEL_FORMATS), default="text", help="output format")


def _cmd_schema(p: argparse.ArgumentParser) -> None:
    pass  # no options but the settings'


def _cmd_settings(p: argparse.ArgumentParser) -> None:
    _paths(p)
    _strict(p)
    _handler_modules(p)
    p.add_argument(
        "--format", choices=["text", "json"], default="text", help="text for people, json"
    )


def _cmd_needs(p: argparse.ArgumentParser) -> None:
    _paths(p)
    _provider_option(p, "only what these providers need (one service's providers)")
    p.add_argument(
        "--format",
        choices=list(NEEDS_FORMATS),
        default="text",
        help="text for people, json, dotenv (a .env.example), k8s (a container's env)",
    )
    p.add_argument(
        "--k8s-secret",
        metavar="NAME",
        help=f"the Secret credentials and secret files come from (default {K8S_DEFAULT})",
    )
    p.add_argument(
        "--k8s-configmap",
        metavar="NAME",
        help=f"the ConfigMap other variables come from (default {K8S_DEFAULT})",
    )


# command -> (its help, what adds its options); the order is --help's
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "validate": ("schema and semantic checks, every problem at once", _cmd_validate),
    "check-env": (
        "render every template against the environment; report every missing variable",
        _cmd_check_env,
    ),
    "compile": ("write the compiled artifact (templates unrendered)", _cmd_compile),
    "emit": ("write the registry calls as a module for Flue apps (JS or TS)", _cmd_emit),
    "calls": ("print the rendered registry calls as JSON", _cmd_calls),
    "resolve": ("resolve model specifiers like Flue's runtime does", _cmd_resolve),
    "explain": ("every effective field of a model and what set it", _cmd_explain),
    "list": ("a table of the configured providers and models", _cmd_list),
    "diff": ("the effective change between two configurations (paths or artifacts)", _cmd_diff),
    "probe": (
        "call a cheap endpoint of every provider: reachability, auth and latency",
        _cmd_probe,
    ),
    "check-handlers": (
        "import every ApiProvider handler in a child process, as a service would load them",
        _cmd_check_handlers,
    ),
    "models": (
        "every model ID that resolves, with its limits and where they come from",
        _cmd_models,
    ),
    "schema": ("print the JSON Schema for providers.d documents", _cmd_schema),
    "settings": (
        "the effective settings (command line, settings file, defaults) and where each "
        "value comes from",
        _cmd_settings,
    ),
    "needs": (
        "every environment variable and secret file the tree reads, and the keys the "
        "runtime reads by itself",
        _cmd_needs,
    ),
}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    """A timeout: a finite number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (0 < value < 86400):  # nan and inf fail this too
        raise argparse.ArgumentTypeError(f"a timeout is between 0 and 86400 seconds: {text!r}")
    return value


def _is_path(arg: str) -> bool:
    """Whether a positional argument of ``resolve`` is a path: it exists, or is named like
    a configuration (so a misspelt one is reported missing, not resolved as a model)."""
    return os.path.exists(arg) or arg.endswith((".d", ".yaml", ".yml", ".json"))


def parse(argv: Sequence[str] | None = None) -> Args:
    """The command line as options. ``resolve``'s positional arguments are specifiers and
    paths together: what exists on disk (or is named like configuration) is a path, except
    after ``--``, where every argument is a specifier (``resolve -- foo.json``)."""
    words = list(sys.argv[1:] if argv is None else argv)
    only = words[0] if words and words[0] in COMMANDS else None
    args = Args(**vars(build_parser(only).parse_args(words)), argv=words)
    if args.command == "resolve":
        given = list(args.specs)
        cut = words.index("--") if "--" in words else len(words)
        forced = len(words) - cut - 1 if cut < len(words) else 0  # the last ones given
        free, specs_only = given[: len(given) - forced], given[len(given) - forced :]
        args.paths = [a for a in free if _is_path(a)]
        args.specs = [*(a for a in free if not _is_path(a)), *specs_only] or given
    return args
