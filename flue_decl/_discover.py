"""Turn input paths into layers of source files: which files make a tree, in which order,
read how. Shared by the compiler, the validation cache and the watcher."""

from __future__ import annotations

import os
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
            for entry in sorted(entries, key=lambda e: _sort_key(e.name)):
                name = entry.name
                if is_skipped(name) or not name.endswith(YAML_SUFFIXES):
                    continue
                # is_file() follows symlinks (ConfigMap mounts are links); for a plain
                # file the directory listing already says, without a stat per file.
                try:
                    regular = entry.is_file()
                except OSError:
                    regular = False
                if regular:
                    files.append(SourceFile(os.path.join(root, name), index))
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


def read_capped(path: str, limit: int) -> bytes:
    """The file's bytes, but never more than ``limit + 1`` of them (one more than allowed
    is how a caller tells a file that is too large). Sized from fstat: a buffered
    ``read(limit + 1)`` allocates the whole limit for every small file, which was most of
    the cost of hashing a tree for the validation cache. Raises OSError."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        remaining = limit + 1
        request = min(os.fstat(fd).st_size + 1, remaining)
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
