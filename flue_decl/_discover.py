"""Turn input paths into layers of source files: which files make a tree, in which order,
read how. Shared by the compiler, the validation cache and the watcher."""

from __future__ import annotations

import itertools
import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from ._errors import Diagnostic, Severity
from ._files import _one_path

MAX_FILE_BYTES = 1 << 20  # a providers.d file larger than this is refused, not read
# Entries of one directory: its listing is held and sorted whole (a name and an entry
# each, ~600 bytes with its path), which 250,000 empty files took past validate's memory
# bound with no input to speak of. No configuration directory comes near it.
MAX_ENTRIES = 50_000
MAX_IGNORED_LISTED = 100  # `ignored-file` warnings of one directory; the rest are counted

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


def as_layers(paths: object, *, what: str = "paths") -> tuple[str, ...]:
    """``paths`` as layers: one ``str`` or ``os.PathLike`` is one path; a list or tuple of
    them is layers, in order. Anything else (bytes, a set, a number) is a TypeError that
    says a path was expected: ``"providers.d"`` must never be read as 11 one-letter paths."""
    if isinstance(paths, str | os.PathLike):
        return (_one_path(paths, what),)
    if not isinstance(paths, list | tuple):
        raise TypeError(
            f"{what}: expected a path (str or os.PathLike) or a list of paths, "
            f"got {type(paths).__name__}"
        )
    return tuple(_one_path(p, what) for p in paths)


def _sort_key(name: str) -> bytes:
    # Layers are read in byte order of the file names: not locale order, not case-folded.
    return os.fsencode(name)


def discover(paths: Sequence[str | os.PathLike[str]] = DEFAULT_PATHS) -> Discovery:
    layers: list[Layer] = []
    diagnostics: list[Diagnostic] = []
    for index, root in enumerate(as_layers(paths)):
        files: list[SourceFile] = []
        if os.path.isdir(root):
            try:
                with os.scandir(root) as listing:
                    entries = list(itertools.islice(listing, MAX_ENTRIES + 1))
            except OSError as exc:
                diagnostics.append(_io_error(root, exc))
                entries = []
            if len(entries) > MAX_ENTRIES:  # refused whole: part of a tree is not the tree
                diagnostics.append(_too_many(root))
                entries = []
            real_root = os.path.realpath(root)
            unread = 0
            for entry in sorted(entries, key=lambda e: _sort_key(e.name)):
                name = entry.name
                if is_skipped(name):
                    continue
                if not name.endswith(YAML_SUFFIXES):
                    ignored = _ignored(entry, root)
                    if ignored is not None:
                        unread += 1
                        if unread <= MAX_IGNORED_LISTED:
                            diagnostics.append(ignored)
                    continue
                path = os.path.join(root, name)
                problem = _entry_problem(entry, path, real_root)
                if problem is None:
                    files.append(SourceFile(path, index))
                else:
                    diagnostics.append(problem)
            if unread > MAX_IGNORED_LISTED:
                diagnostics.append(_more_ignored(root, unread - MAX_IGNORED_LISTED))
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


def _more_ignored(root: str, count: int) -> Diagnostic:
    return Diagnostic(
        Severity.WARNING,
        "ignored-file",
        f"{count:,} more files in {root} that look like configuration are not read",
        file=root,
        hint="the first ones are listed: rename or move them as they say",
    )


def _too_many(root: str) -> Diagnostic:
    return Diagnostic(
        Severity.ERROR,
        "too-many-files",
        f"{root} holds more than {MAX_ENTRIES:,} entries: it is not read",
        file=root,
        hint="a configuration directory holds far fewer; point at the right one, or split it",
    )


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


# A YAML suffix but for case or whitespace: `x.YAML`, `x.Yml`, `x.yaml ` (a trailing space).
_NEAR_YAML = re.compile(r"\.\s*(ya?ml)\s*$", re.IGNORECASE)


def _ignored(entry: os.DirEntry[str], root: str) -> Diagnostic | None:
    """Why a directory entry that looks like configuration is not read, or None. Reading
    nothing in silence turns a misnamed file into a green CI run."""
    name, path = entry.name, os.path.join(root, entry.name)
    near = _NEAR_YAML.search(name)
    if near:
        fixed = f"{name[: near.start()].strip()}.{near.group(1).lower()}"
        why = "its suffix is .yaml or .yml but for case or whitespace"
        hint = f"rename it to {fixed!r}"
    elif name.lower().endswith(".json"):
        why = "it is a JSON file (flue-decl reads *.yaml and *.yml)"
        hint = "JSON is YAML: rename it to .yaml to read it, or move it out of the directory"
    elif _is_yaml_directory(entry):
        why = "it is a subdirectory of YAML files (directories are not read recursively)"
        command = shlex.join(["flue-decl", "validate", root, path])  # safe to paste
        hint = f"name it as a layer to read it: `{command}`"
    else:
        return None
    return Diagnostic(
        Severity.WARNING, "ignored-file", f"`{path}` is not read: {why}", file=path, hint=hint
    )


def _is_yaml_directory(entry: os.DirEntry[str]) -> bool:
    try:
        if not entry.is_dir():
            return False
        with os.scandir(entry.path) as inner:
            return any(
                not is_skipped(e.name) and e.name.endswith(YAML_SUFFIXES) for e in inner
            )
    except OSError:
        return False


def _skipped(path: str, what: str) -> Diagnostic:
    """An error, not a warning: loading the tree without the provider that file holds would
    drop it in silence (a watcher would serve a registry without it)."""
    return Diagnostic(
        Severity.ERROR,
        "skipped-file",
        f"{path} is {what}; it cannot be read",
        file=path,
        hint="make it a regular file again, remove it, or rename it so it does not end "
        "in .yaml",
    )


def _io_error(path: str, exc: OSError) -> Diagnostic:
    return Diagnostic(
        Severity.ERROR, "io-error", f"cannot read {path}: {exc.strerror or exc}", file=path
    )
