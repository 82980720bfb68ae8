"""``check-env`` (render against this environment, report every problem) and ``compile``
(write the artifact)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable

from .._catalog import builtin_catalog
from .._errors import Diagnostic
from ..compiler import literal_secrets, module_text
from ..runtime import render_calls, select_calls
from ..runtime._artifact import artifact_pieces
from ..runtime._secretfiles import SecretFiles
from ._args import Args
from ._inputs import compiled
from ._options import options
from ._outcome import OK, PROBLEMS, USAGE, fail
from ._reporters import REPORTERS, resolve_format


def check_env(args: Args) -> int:
    compilation = compiled(args)
    calls = compilation.calls
    if args.provider:  # one service's needs: its providers' variables only
        calls = select_calls(calls, args.provider, builtin_catalog())
    _, problems = render_calls(calls, os.environ, SecretFiles(options(args).secrets_dir))
    ordered = sorted(problems, key=Diagnostic.sort_key)
    reporter = REPORTERS[resolve_format(options(args).format)](sys.stdout)
    reporter.report(ordered, ok=not problems, files=compilation.files)
    return PROBLEMS if problems else OK


def compile_artifact(args: Args) -> int:
    compilation = compiled(args)
    problems = literal_secrets(compilation.calls)
    if problems:
        return fail(problems, compilation.files, input_error=False)
    sign_key = None
    if args.sign_key_env is not None:
        sign_key = os.environ.get(args.sign_key_env, "")
        if not sign_key:
            print(
                f"flue-decl: {args.sign_key_env} is not set (or empty): nothing to sign with",
                file=sys.stderr,
            )
            return USAGE
    pieces = artifact_pieces(
        compilation.calls,
        layers=compilation.layer_roots,
        files=compilation.hashes,
        sign_key=sign_key,
    )
    code = _write(args.output, pieces)
    if code != OK or args.output in (None, "-"):
        return code
    print(f"wrote {args.output}: {len(compilation.calls)} calls", file=sys.stderr)
    return OK


def emit_module(args: Args) -> int:
    compilation = compiled(args)
    problems = literal_secrets(compilation.calls)  # the module never holds a secret either
    if problems:
        return fail(problems, compilation.files, input_error=False)
    text = module_text(compilation.calls, target=args.target, files=compilation.hashes)
    code = _write(args.output, text)
    if code == OK and args.output not in (None, "-"):
        print(f"wrote {args.output}: {len(compilation.calls)} calls", file=sys.stderr)
    return code


def _write(output: str | None, text: str | Iterable[str]) -> int:
    """``text`` (or its pieces, one after the other) to stdout (written whole or exit 2:
    see ``_stdout``), or to ``output`` atomically: readers never see half a file. The
    temporary file is removed whatever stops the write (Ctrl-C too); one a killed writer
    left behind is removed by the next write to the same output."""
    pieces: Iterable[str] = [text] if isinstance(text, str) else text
    if output in (None, "-"):
        # Made whole before any of it is written (a Ctrl-C while the pieces are made prints
        # nothing), and as UTF-8 whatever stdout's encoding: the bytes a file would hold.
        whole = "".join(pieces)
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a stream of text only (a caller's capture) takes the text
            sys.stdout.write(whole)
        else:
            sys.stdout.flush()
            buffer.write(whole.encode("utf-8"))
        return OK
    _remove_orphans(output)
    tmp = f"{output}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.writelines(pieces)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before it takes the output's name
        os.replace(tmp, output)
    except OSError as exc:
        print(f"flue-decl: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return USAGE
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return OK


def _remove_orphans(output: str) -> None:
    """Remove ``OUTPUT.tmp-<pid>`` files whose writer is no longer running."""
    directory, name = os.path.split(os.path.abspath(output))
    prefix = f"{name}.tmp-"
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if not entry.name.startswith(prefix):
                continue
            pid = entry.name[len(prefix) :]
            if pid.isascii() and pid.isdigit() and not _running(int(pid)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process (or no such number)
        return False
    except OSError:  # someone else's process: running
        return True
    return True
