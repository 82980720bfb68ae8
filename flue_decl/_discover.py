"""Turn input paths into layers of source files: which files make a tree, in which order,
read how. Shared by the compiler, the validation cache and the watcher."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from ._errors import Diagnostic, Severity

MAX_FILE_BYTES = 1 << 20  # a providers.d file larger than this is refused, not read

YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_PATHS: tuple[str, ...] = ("providers.d",)


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str  # as displayed in diagnostics: the input path joined with the name
    layer: int


@dataclass(frozen=True, slots=True)
class Layer:
    index: int
    root: str
    files: tuple[SourceFile, ...]


@dataclass(frozen=True, slots=True)
class Discovery:
    layers: tuple[Layer, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def files(self) -> tuple[SourceFile, ...]:
        return tuple(f for layer in self.layers for f in layer.files)


def is_skipped(name: str) -> bool:
    """Hidden files and editor leftovers never count as configuration."""
    return (
        name.startswith(".")
        or name.endswith("~")
        or (name.startswith("#") and name.endswith("#"))
        or name.endswith((".swp", ".swo", ".swx", ".tmp", ".bak", ".orig", ".rej"))
    )


def _sort_key(name: str) -> bytes:
    # Layers are read in byte order of the file names: not locale order, not case-folded.
    return os.fsencode(name)


def discover(paths: Sequence[str | os.PathLike[str]] = DEFAULT_PATHS) -> Discovery:
    layers: list[Layer] = []
    diagnostics: list[Diagnostic] = []
    for index, raw in enumerate(paths):
        root = os.fspath(raw)
        files: list[SourceFile] = []
        if os.path.isdir(root):
            try:
                with os.scandir(root) as listing:
                    entries = list(listing)
            except OSError as exc:
                diagnostics.append(_io_error(root, exc))
                entries = []
            real_root = os.path.realpath(root)
            for entry in sorted(entries, key=lambda e: _sort_key(e.name)):
                name = entry.name
                if is_skipped(name) or not name.endswith(YAML_SUFFIXES):
                    continue
                path = os.path.join(root, name)
                problem = _entry_problem(entry, path, real_root)
                if problem is None:
                    files.append(SourceFile(path, index))
                else:
                    diagnostics.append(problem)
        elif os.path.isfile(root):
            files.append(SourceFile(root, index))
        elif os.path.lexists(root):
            diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    "input-not-found",
                    f"{root} is neither a file nor a directory (a dangling symlink?)",
                    file=root,
                )
            )
        else:
            diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    "input-not-found",
                    f"no such file or directory: {root}",
                    file=root,
                    hint="pass a providers.d directory or YAML files",
                )
            )
        layers.append(Layer(index, root, tuple(files)))
    return Discovery(tuple(layers), tuple(diagnostics))


def _entry_problem(entry: os.DirEntry[str], path: str, real_root: str) -> Diagnostic | None:
    """Why a ``*.yaml`` entry of a configuration directory is not read, or None. A link may
    point anywhere inside the directory (a Kubernetes ConfigMap mount links every file
    through ``..data``), never outside it: ``zz.yaml -> /proc/self/environ`` would have its
    target quoted in the CI log. Name such a file on the command line to read it."""
    # is_file() follows links; for a plain file the directory listing already says,
    # without a stat per file.
    try:
        regular = entry.is_file()
        link = entry.is_symlink()
    except OSError:
        regular = link = False
    if link:
        target = os.path.realpath(path)
        if not os.path.exists(target):
            return _skipped(path, "a link to nothing (dangling, or a loop of links)")
        if os.path.commonpath([real_root, target]) != real_root:
            return Diagnostic(
                Severity.ERROR,
                "symlink-outside",
                f"{path} links to a file outside its configuration directory; not read",
                file=path,
                hint="copy the file into the directory, or name it on the command line",
            )
    if regular:
        return None
    return _skipped(path, "not a regular file (a directory, a FIFO or a device)")


def _skipped(path: str, what: str) -> Diagnostic:
    return Diagnostic(
        Severity.WARNING,
        "skipped-file",
        f"{path} is {what}; not read",
        file=path,
        hint="remove it, or rename it so it does not end in .yaml",
    )


def read_capped(path: str, limit: int) -> bytes:
    """The file's bytes, but never more than ``limit + 1`` of them (one more than allowed
    is how a caller tells a file that is too large). Sized from fstat: a buffered
    ``read(limit + 1)`` allocates the whole limit for every small file, which was most of
    the cost of hashing a tree for the validation cache. Raises OSError, also for anything
    but a regular file: what was listed as a file may have been swapped for a FIFO since,
    which a blocking open would wait on for ever."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        remaining = limit + 1
        request = min(status.st_size + 1, remaining)
        chunks = []
        while remaining > 0:
            chunk = os.read(fd, max(request, 1))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
            request = min(remaining, 1 << 16)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _io_error(path: str, exc: OSError) -> Diagnostic:
    return Diagnostic(
        Severity.ERROR, "io-error", f"cannot read {path}: {exc.strerror or exc}", file=path
    )
