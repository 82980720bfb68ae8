"""A reload's compile in a child process: what a :class:`~flue_decl._load.Tree` runs for
every reload after the first.

Why: a compile builds tens of thousands of objects (documents, entities, places) for the
length of a reload. In the service's process every one of them is rescanned by each
full run of CPython's cyclic collector, which holds the GIL: request threads stall for
as long (issue 22's 90-400 ms at 1,000 files). In a child, the service receives only the
compiled calls, as the artifact a ``compile -o`` would write, and decodes them; the
compile's memory goes back to the system when the child exits, and a compile that
crashes or is killed for memory fails one reload, not the service.

The child is ``sys.executable -s -X utf8=...`` with this flue_decl's directory and the
parent's ``sys.path`` made absolute, so it imports this very flue_decl and decodes file
names as the parent does, with an environment of the locale and PATH only. It reads the
effective settings from its stdin (pickled: both ends are this module) and writes a
marker, one JSON line, then, if the tree compiled, the artifact:

    {"encoding": ..., "files": [layer, path, ...], "hashes": [path, sha, ...]}\\n<artifact>
    {"encoding": ..., "error": "ValidationError", "diagnostics": [...]}\\n
    {"crash": "MemoryError"}\\n

Nothing the child prints is shown beyond that: an exception's type, never its text.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._domain import Call
from ._errors import (
    ConfigError,
    Diagnostic,
    InputError,
    ReloadError,
    SettingsError,
    ValidationError,
)
from ._settingkeys import Settings
from .runtime._decode import decode_artifact

_ERRORS: dict[str, type[ConfigError]] = {
    kind.__name__: kind for kind in (ConfigError, InputError, SettingsError, ValidationError)
}
TIMEOUT = 600.0  # seconds: a compile that takes longer is stuck, and is killed
CHILD_NICENESS = 10  # added to a child's niceness: see background()
MARKER = b"\0flue-decl-reload\0"
# The child reads no environment variable: it gets only what starting Python and decoding
# file names need, so no secret of the service's environment is in another process's.
_PASSED = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "PYTHONCOERCECLOCALE",  # with the locale: how file names are decoded
    "PYTHONUTF8",
    "TMPDIR",
    "SYSTEMROOT",
)
_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from flue_decl._isolated import child; child()"
)


@dataclass(frozen=True, slots=True)
class Compiled:
    """What a compile in the child read and gave."""

    calls: Sequence[Call]  # an artifact's Calls: decoded when read
    files: tuple[tuple[int, str], ...]  # (layer, path) of every input file found
    hashes: tuple[tuple[str, str], ...]  # (path, sha256) of every input file read


def compile_in_child(options: Settings, *, allow_empty: bool) -> Compiled:
    """Compile the tree of ``options`` in a child process; raises the ConfigError the
    compile gave, or one (``io-error``) saying why the child gave nothing."""
    try:
        done = subprocess.run(
            child_command(_BOOT),
            input=pickle.dumps((options, allow_empty)),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=child_environment(os.environ),
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed it
        raise _failed(f"the compiler process took longer than {TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise _failed(f"cannot start the compiler process ({type(exc).__name__})") from None
    return _received(done.stdout, done.returncode)


def _received(stdout: bytes, status: int) -> Compiled:
    """The child's answer, after the last marker (whatever a site hook printed before).
    Anything short of a whole answer from a child that exited 0 is a ReloadError: a
    child killed half-way says nothing about the tree."""
    at = stdout.rfind(MARKER)
    found = stdout[at + len(MARKER) :] if at != -1 else b""
    head, _, artifact = found.partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        header = None
    if status != 0 or not isinstance(header, dict):
        raise _failed(f"the compiler process ended with status {status} and no result")
    if "crash" in header:  # raised by the compile of these bytes: as in this process
        raise ConfigError(
            [Diagnostic.at("io-error", f"reloading failed: {header['crash']}", None)]
        )
    if header.get("encoding") != _encoding():
        raise _failed(
            f"the compiler process reads file names as {header.get('encoding')}, this one "
            f"as {_encoding()}"
        )
    error: ConfigError | None = None
    try:
        if "error" in header:
            kind = _ERRORS.get(header["error"], ConfigError)
            error = kind([Diagnostic.decoded(d) for d in header["diagnostics"]])
        else:
            # Tuples first, and the decoded header let go: nothing of it is alive (and
            # tracked by the collector) while the calls are decoded.
            # Flat lists: one list each, not one per file (10,000 lists alive across the
            # collections of a reload promote themselves and trigger a full collection).
            flat, pairs = header["files"], header["hashes"]
            files = tuple((int(flat[i]), str(flat[i + 1])) for i in range(0, len(flat), 2))
            hashes = tuple((str(pairs[i]), str(pairs[i + 1])) for i in range(0, len(pairs), 2))
            del header, head
            calls = decode_artifact(artifact, "<reload>")
    except (KeyError, IndexError, TypeError, ValueError, InputError) as exc:
        why = type(exc).__name__
        raise _failed(f"the compiler process's answer is incomplete ({why})") from None
    if error is not None:  # the tree's own errors, as the compile reported them
        raise error
    return Compiled(calls, files, hashes)


def child_command(boot: str) -> list[str]:
    """The command line of a child that runs ``boot`` (Python source) with this
    flue_decl: no user site (the environment is ours, see child_environment), file names
    decoded as here, ``sys.path`` as :func:`child_path` (``boot`` reads it from argv[1])."""
    return [
        sys.executable,
        "-s",
        "-X",
        f"utf8={sys.flags.utf8_mode}",
        "-c",
        boot,
        json.dumps(child_path()),
    ]


def child_path() -> list[str]:
    """The child's ``sys.path``: this flue_decl's directory first, then this process's
    entries made absolute (``''`` means the working directory when it was imported, not
    the one at a reload)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [here, *(os.path.abspath(entry) for entry in sys.path)]


def _encoding() -> str:
    return f"{sys.getfilesystemencoding()}/{sys.getfilesystemencodeerrors()}"


def background() -> None:
    """Lower this (child) process's CPU priority: a reload's work waits for the service's
    request threads, not the other way round (where the system allows it)."""
    with contextlib.suppress(AttributeError, OSError):  # no nice() (Windows), or refused
        os.nice(CHILD_NICENESS)


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What the child's environment holds of ``environ``: see ``_PASSED``."""
    return {name: environ[name] for name in _PASSED if name in environ}


def _failed(message: str) -> ReloadError:
    return ReloadError(
        [
            Diagnostic.at(
                "io-error",
                f"reloading failed: {message}",
                None,
                hint="the last good registry keeps serving and the reload is tried again at "
                "the next poll; watch(..., isolated_reloads=False) compiles in the service's "
                "own process",
            )
        ]
    )


def child() -> None:
    """The child's side: read the settings, compile, write the result (see above)."""
    background()
    out = sys.stdout.buffer
    out.write(MARKER)
    try:
        options, allow_empty = pickle.loads(sys.stdin.buffer.read())
        out.write(_result(options, allow_empty))
    except BaseException as exc:  # the parent is told its type, nothing more
        out.write(json.dumps({"crash": type(exc).__name__}).encode() + b"\n")
    out.flush()
    os._exit(0)  # no interpreter teardown: the parent has what it needs


def _result(options: Settings, allow_empty: bool) -> bytes:
    from .compiler import compile_paths
    from .runtime._artifact import artifact_text

    compilation = compile_paths(settings=options, allow_empty=allow_empty)
    try:
        compilation.raise_for_errors()
    except ConfigError as error:
        header = {
            "encoding": _encoding(),
            "error": type(error).__name__,
            "diagnostics": [d.encoded() for d in error.diagnostics],
        }
        return json.dumps(header).encode() + b"\n"
    header_files = {
        "encoding": _encoding(),
        "files": [part for s in compilation.discovery.files for part in (s.layer, s.path)],
        "hashes": [part for pair in compilation.hashes for part in pair],
    }
    text = artifact_text(
        compilation.calls, layers=compilation.layer_roots, files=compilation.hashes
    )
    return json.dumps(header_files).encode() + b"\n" + text.encode("utf-8")
