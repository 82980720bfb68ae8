"""``validate`` answered again without loading flue-decl: the last such run, replayed.

When ``validate`` reads a tree and keeps its result in the validation cache (``_cache``),
it also writes a record of the run (:func:`record`): what picks it (the arguments, the
working directory, the environment variables a run reads, whether standard output is a
terminal and its encoding), its exit code and standard output, and the stat of everything
it read: flue-decl's own code and data, the directories the settings search looked in and
the files it looked for, each input directory and file. A later run with the same
arguments in the same place replays the record (:func:`replayed`) when every one of those
is as it was (type and mode, inode, device, owner, size, change and modification times in
nanoseconds), having imported nothing but ``os``, ``sys``, ``errno`` and ``zlib``: what is left is
the interpreter's start. Anything else runs the command, which may still answer from the
cache: a file edited, touched, added or removed (its directory's times change too), other
arguments, directory or environment, a record unreadable or not only this user's to
write. A run during which, or within two seconds before which, anything it read changed
is not recorded: timestamps have a granularity (a jiffy on Linux, two seconds on FAT), and
an edit within it keeps the stat.

A record is text, fields ended by NUL (which no path, argument or variable holds): the
format, a CRC-32 of the rest (a record cut short is never replayed), the key, the exit
code, the number of paths, each path and its stat, then the output to the end.
"""

from __future__ import annotations

import errno
import os
import sys

FORMAT = "flue-decl-replay 1"
# The environment a validate run reads (its cache's place, colour, format, encodings): a
# record is only for the same values. None of them is a secret (the record holds them).
READS = (
    "FLUE_DECL_CACHE_DIR", "FLUE_DECL_DEBUG", "XDG_CACHE_HOME", "HOME", "NO_COLOR", "TERM",
    "GITHUB_ACTIONS", "PYTHONIOENCODING", "PYTHONUTF8", "LC_ALL", "LC_CTYPE", "LANG",
)  # fmt: skip
RACY_NS = 2_000_000_000  # a change this close to a run: not recorded (see above)
KEPT = 64  # records kept, the newest: a pre-commit hook names other files each commit
# Which flue-decl this is (another checkout's, on another path, has records of its own).
_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
_LINK = "="  # a path's entry that holds where it leads, not its stat
INTERRUPTED = "flue-decl: interrupted"


def cache_dir() -> str:
    """Where the validation cache and its records are: ``$FLUE_DECL_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/flue-decl``, else ``~/.cache/flue-decl``."""
    explicit = os.environ.get("FLUE_DECL_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "flue-decl")


def untrusted(directory: str) -> str | None:
    """Why entries in ``directory`` cannot be trusted, or None: as ssh and pip do, only a
    directory of this user's that nobody else may write to (a forged passing entry would
    make a failing tree pass)."""
    if not hasattr(os, "getuid"):
        return None  # no POSIX owners (Windows): the user's profile directory is private
    try:
        info = os.stat(directory)
    except FileNotFoundError:
        return None  # nothing to trust or distrust yet; the cache creates it 0700
    except OSError as exc:
        return f"cannot inspect {directory}: {exc.strerror or exc}"
    if info.st_uid != os.getuid():
        return f"{directory} belongs to another user"
    if info.st_mode & 0o022:
        return f"{directory} is writable by other users"
    return None


def private(info: os.stat_result) -> bool:
    """Whether a cache file is this user's alone to write."""
    return not hasattr(os, "getuid") or (info.st_uid == os.getuid() and not info.st_mode & 0o022)


def stdout_failure(exc: OSError) -> str:
    """The one line saying why standard output did not take the output."""
    reason = "it was closed" if exc.errno == errno.EPIPE else exc.strerror or exc
    return f"flue-decl: cannot write to standard output: {reason}"


def _key(argv: list[str]) -> str:
    """What picks a record, each part length-prefixed (no two lists give one key)."""
    environ = os.environ
    try:
        tty = os.isatty(1)
    except OSError:
        tty = False
    parts = [
        *argv, "\x01", os.getcwd(), sys.executable, sys.version, _PACKAGE, str(tty),
        str(getattr(sys.stdout, "encoding", None)),
        *(f"{n}={environ[n]}" if n in environ else n for n in READS),
    ]  # fmt: skip
    return "".join(f"{len(p)}:{p}" for p in parts)


def _entry(key: str) -> str:
    import zlib  # a name, not a check: the record holds its key whole

    data = key.encode("utf-8", "surrogatepass")
    return os.path.join(cache_dir(), f"replay-{zlib.crc32(data):08x}{zlib.adler32(data):08x}")


def _crc32(data: bytes) -> int:
    import zlib

    return zlib.crc32(data)


def _seen(path: str, entry: str) -> bool:
    """Whether ``path`` is as its record's ``entry`` says: its stat, or for a symbolic
    link also where it leads (a link further along may change that, not the stat)."""
    if entry.startswith(_LINK):
        return os.path.realpath(path) == entry[len(_LINK) :]
    return _stat(path) == entry


def _stat(path: str) -> str:
    try:
        s = os.stat(path)
    except OSError:
        return "-"
    times = f"{s.st_mtime_ns},{s.st_ctime_ns}"  # the last two: see record
    return f"{s.st_mode},{s.st_ino},{s.st_dev},{s.st_uid},{s.st_size},{times}"


def replayed(argv: list[str]) -> int | None:
    """The exit code of ``validate`` replayed from its record, its output written; None
    when there is nothing to replay (then nothing was written)."""
    if not argv or argv[0] != "validate":
        return None
    try:
        return _replay(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130


def _replay(argv: list[str]) -> int | None:
    try:
        key = _key(argv)
        entry = _entry(key)
        if untrusted(cache_dir()) is not None:
            return None
        with open(entry, "rb") as fh:
            if not private(os.fstat(fh.fileno())):
                return None
            data = fh.read()
        magic, crc, body = data.split(b"\0", 2)
        if magic != FORMAT.encode() or int(crc) != _crc32(body):  # whole, as written
            return None
        recorded, code, count, rest = body.split(b"\0", 3)
        if recorded.decode("utf-8", "surrogatepass") != key:
            return None
        fields = rest.split(b"\0", 2 * int(count))
        text = fields.pop().decode("utf-8", "surrogatepass")
        for at in range(0, len(fields), 2):
            path = fields[at].decode("utf-8", "surrogatepass")
            if _seen(path, fields[at + 1].decode("utf-8", "surrogatepass")) is False:
                return None
        output, exit_code = text.encode(sys.stdout.encoding, "backslashreplace"), int(code)
    except (OSError, ValueError, LookupError, AttributeError, TypeError):
        return None  # no record, or not one of these: the command runs
    try:
        _write_all(1, output)
    except OSError as exc:
        print(stdout_failure(exc), file=sys.stderr)
        return 2
    return exit_code


def _write_all(fd: int, data: bytes) -> None:
    """Every byte of ``data`` to ``fd``, waiting while a non-blocking pipe is full (as the
    command's own standard output does: ``_stdout``)."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except InterruptedError:
            continue
        except BlockingIOError:
            import select

            select.select([], [fd], [])


def record(argv: list[str], paths: list[str], code: int, output: str, started: int) -> None:
    """Best effort: keep this run's ``output`` and exit ``code`` for a replay, with the stat
    of every one of ``paths`` (all it read); not if any changed since two seconds before
    the run ``started`` (``time.time_ns()``), nor when standard output is not the process's
    own (a caller of ``main`` capturing it)."""
    try:
        if sys.stdout.fileno() != 1:  # a caller's stream: not what a replay writes to
            return
        _record(argv, paths, code, output, started)
    except (OSError, ValueError, AttributeError):  # UnicodeError, a closed stream
        return


def _record(argv: list[str], paths: list[str], code: int, output: str, started: int) -> None:
    entries: list[str] = []
    for path in paths:
        stat = _stat(path)
        if stat != "-" and max(map(int, stat.split(",")[-2:])) >= started - RACY_NS:
            return
        entries += (path, stat)
        if os.path.islink(path):
            entries += (path, _LINK + os.path.realpath(path))
    key = _key(argv)
    fields = [key, str(code), str(len(entries) // 2), *entries]
    body = "\0".join([*fields, output]).encode("utf-8", "surrogatepass")
    data = b"\0".join([FORMAT.encode(), str(_crc32(body)).encode(), body])
    entry = _entry(key)
    temporary = f"{entry}.{os.urandom(6).hex()}.tmp"  # not the PID: containers share it
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(temporary, entry)
    finally:  # Ctrl-C too: no temporary file is left behind
        _unlink(temporary)
    _prune(os.path.dirname(entry))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:  # gone already (renamed into place), or not ours to remove
        return


def _prune(directory: str) -> None:
    """Keep the newest :data:`KEPT` records."""
    with os.scandir(directory) as listing:
        records = [
            e
            for e in listing
            if e.name.startswith("replay-") and not e.name.endswith(".tmp") and e.is_file()
        ]  # another run's record being written is its own
    if len(records) > KEPT:
        records.sort(key=lambda e: e.stat().st_mtime_ns)
        for old in records[: len(records) - KEPT]:
            _unlink(old.path)
