"""The command line: parse options, run one command, map its outcome to an exit code.

Each command lives in the module of its family and is imported when it runs (see
``COMMANDS``): ``validate`` answered from its cache loads none of the compile machinery.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from .._errors import FlueDeclError, InputError, SettingsError
from ._args import Args
from ._options import options
from ._outcome import INTERNAL, USAGE, fail
from ._parser import parse
from ._replay import INTERRUPTED, stdout_failure
from ._stdout import StdoutError, checked_stdout

# command -> (module in flue_decl.cli, function)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("_validate", "run"),
    "check-env": ("_check", "check_env"),
    "compile": ("_check", "compile_artifact"),
    "calls": ("_show", "calls"),
    "resolve": ("_show", "resolve"),
    "explain": ("_show", "explain_model"),
    "list": ("_show", "list_providers"),
    "schema": ("_show", "schema"),
    "models": ("_show", "models"),
    "diff": ("_diff", "run"),
    "probe": ("_probe", "run"),
    "check-handlers": ("_handlers", "run"),
    "emit": ("_check", "emit_module"),
    "settings": ("_options", "show_settings"),
    "needs": ("_needs", "run"),
}


def main(argv: Sequence[str] | None = None, *, _final: bool = False) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    Ctrl-C at any moment gives 130 and one line on stderr, never a traceback; everything
    written to standard output is written whole, or the command exits 2 saying why.
    ``_final``: the process exits right after (the ``flue-decl`` command), so a Ctrl-C
    after the command finished changes nothing."""
    previous = _interrupt_once()
    try:
        args = parse(argv)
        # A command is one short pass over a large, acyclic graph: without the cyclic
        # collector a 10,000-file compile takes two thirds of the time. The process ends
        # right after, so pausing it here changes nobody else's state.
        with _cyclic_gc_paused(), _unencodable_escaped(), checked_stdout() as out:
            code = _run(args)
            out.flush()
        return code
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except StdoutError as exc:
        print(stdout_failure(exc), file=sys.stderr)
        return USAGE
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN if _final else previous)


def run() -> NoReturn:
    """The ``flue-decl`` command: :func:`main` on ``sys.argv``, then exit with its code."""
    code = main(sys.argv[1:], _final=True)
    # The process ends here: a last collection would walk every object left, for nothing
    # (12 ms of a 1,000-file validate; bench/notes.md).
    gc.freeze()
    sys.exit(code)


def _interrupt_once() -> Any:
    """Make the first Ctrl-C a KeyboardInterrupt and ignore the ones after it (a second
    one while the first unwinds would print a traceback); the handler it replaced, or
    None where handlers cannot be set (not the main thread)."""

    def interrupted(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGINT, interrupted)
    except ValueError:
        return None


@contextlib.contextmanager
def _unencodable_escaped() -> Iterator[None]:
    """Output that cannot be encoded (a file name with bytes that are not UTF-8, held as
    surrogates) written as backslash escapes instead of failing the command."""
    streams = [s for s in (sys.stdout, sys.stderr) if isinstance(s, io.TextIOWrapper)]
    before = [s.errors for s in streams]
    for stream in streams:
        stream.reconfigure(errors="backslashreplace")
    try:
        yield
    finally:
        for stream, errors in zip(streams, before, strict=True):
            stream.reconfigure(errors=errors)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(args: Args) -> int:
    module, function = COMMANDS[args.command]
    try:
        # Every command, whether it reads a tree or not: a bad settings file is exit 2
        # before anything else is read.
        options(args)
        run = getattr(importlib.import_module(f"{__package__}.{module}"), function)
        code: int = run(args)
    except SettingsError as exc:  # before any file was read: no count to give
        return fail(exc.diagnostics, None, input_error=True)
    except InputError as exc:
        return fail(exc.diagnostics, args.files_read, input_error=True)
    except FlueDeclError as exc:  # a refused tree, or a specifier or client refused
        return fail(exc.diagnostics, args.files_read, input_error=False)
    except StdoutError:
        raise  # main says it
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
