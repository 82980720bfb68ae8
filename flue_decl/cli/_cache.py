"""Validation cache: re-validating an unchanged tree costs a hash of its files.

The key is a SHA-256 over flue-decl's version and code, the schemas, the catalog, the
effective settings (the settings file's place and bytes too), the input paths, what the
directory listing says about entries it does not read, and every input file's name, layer
and bytes, so any change to any of them is a miss and the tree is
validated from scratch. An entry is JSON (never pickle: nothing from the cache can run),
written to a temporary file and renamed into place, so concurrent runs never see half an
entry; an unreadable or malformed entry is a miss.

Directory: ``$FLUE_DECL_CACHE_DIR``, else ``$XDG_CACHE_HOME/flue-decl``, else
``~/.cache/flue-decl`` (created 0700; ``_replay.cache_dir``), which also holds the records
of runs to replay (``_replay``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from .._discover import Discovery, discover
from .._domain import schema_dir
from .._errors import Diagnostic, Severity
from .._files import read_capped
from .._settingkeys import Settings
from .._settings import searched
from .._version import __version__
from . import _replay

FORMAT = "flue-decl-validation-cache"
VERSION = 2


def cache_dir() -> Path:
    return Path(_replay.cache_dir())


@functools.cache  # one walk a command: its key, its store, its record
def _tool_files() -> tuple[Path, ...]:
    """What besides the inputs decides the result: flue-decl's code, schemas and catalog,
    in a fixed order."""
    package = Path(__file__).resolve().parent.parent
    return (
        *sorted(package.rglob("*.py")),
        *sorted(Path(schema_dir()).glob("*.schema.json")),
        package / "_data" / "catalog.json",
    )


@functools.cache  # a miss keys its lookup and its store: one read of the files
def _tool_digest() -> bytes:
    """The version and :func:`_tool_files`: a changed flue-decl never reuses old results."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    for file in _tool_files():
        if file.suffix == ".py":
            digest.update(str(file.relative_to(package)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.digest()


def tree_key(paths: Sequence[str], settings: Settings) -> tuple[str | None, Discovery]:
    """The key to look a tree up by (its files as they are now), or None when it cannot be
    cached (an input problem); and what was found there."""
    found = discover(paths)
    if any(d.severity is Severity.ERROR for d in found.diagnostics):
        return None, found
    files = []
    for source in found.files:
        try:
            data = read_capped(source.path, settings.max_file_bytes)
        except OSError:
            return None, found
        files.append((source.layer, source.path, hashlib.sha256(data).hexdigest()))
    return _key(paths, settings, found, files), found


def validated_key(
    paths: Sequence[str], settings: Settings, found: Discovery, hashes: Sequence[tuple[str, str]]
) -> str | None:
    """The key to store a result under: the hashes of the very bytes that were validated
    (``hashes``: file, sha256 as the compiler read them), so an edit between the lookup and
    the compile files its result under its own key, never the old one's. None when a file
    was not read whole (too large, unreadable): nothing to key it by."""
    read = dict(hashes)
    if any(source.path not in read for source in found.files):
        return None
    return _key(paths, settings, found, [(s.layer, s.path, read[s.path]) for s in found.files])


def _key(
    paths: Sequence[str],
    settings: Settings,
    found: Discovery,
    files: Sequence[tuple[int, str, str]],
) -> str:
    digest = hashlib.sha256(_tool_digest())
    # What the listing says about entries it does not read (ignored-file, skipped-file) is
    # part of the result: a new x.json must not be answered by the entry from before it.
    listing = [[d.code, d.file, d.message] for d in found.diagnostics]
    digest.update(json.dumps([list(paths), settings.cache_token(), listing]).encode())
    for layer, path, sha in files:
        digest.update(f"\0{layer}\0{path}\0{sha}".encode(errors="surrogateescape"))
    return digest.hexdigest()


def _entry(key: str) -> Path:
    return cache_dir() / f"{key}.json"


untrusted = _replay.untrusted


def remember(
    argv: Sequence[str],
    *,
    settings: Settings,
    found: Discovery,
    code: int,
    output: str,
    started: int,
) -> None:
    """Keep this run for a replay (``_replay``), with everything it read: flue-decl's own
    files, its dependencies' first, where the settings were looked for,
    the settings file, each input directory (and the directories in it, which discovery
    looks into) and file. Paths as the run named them (``link/..`` is not ``.``)."""
    # Files, not their directories: Python writes __pycache__ there on first import, and
    # a module added without any file changed is one nothing imports.
    read = [
        *map(str, [*_tool_files(), *_dependencies()]),
        *searched(),
        *([settings.file] if settings.file else []),
        *settings.layers(),
        *_subdirectories(settings.layers()),
        *(source.path for source in found.files),
    ]
    here = os.getcwd()
    _replay.record(list(argv), [os.path.join(here, p) for p in read], code, output, started)


def _dependencies() -> list[Path]:
    """The first file of each library a validate run may use: an upgrade replaces it."""
    import importlib.util

    files = []
    for name in ("yaml", "jsonschema", "jinja2", "ada_url"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    return files


def _subdirectories(layers: Sequence[str]) -> list[str]:
    found = []
    for root in layers:
        try:
            with os.scandir(root) as listing:
                found += [e.path for e in listing if e.is_dir()]
        except OSError:  # a file, or gone: its own stat says so
            continue
    return found


def load(key: str) -> tuple[tuple[Diagnostic, ...], int] | None:
    """The cached diagnostics and file count for ``key``, or None (a miss, a bad entry, or
    an entry that is not only this user's to write)."""
    try:
        entry = _entry(key)
        if not _replay.private(entry.stat()):
            return None
        data = json.loads(entry.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("version") != VERSION or data["key"] != key:
            return None
        diagnostics = tuple(Diagnostic.decoded(d) for d in data["diagnostics"])
        return diagnostics, int(data["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(key: str, diagnostics: Sequence[Diagnostic], files: int) -> None:
    """Best effort: a cache that cannot be written is no reason to fail a validation."""
    directory = cache_dir()
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "key": key,
        "files": files,
        "diagnostics": [d.encoded() for d in diagnostics],
    }
    with contextlib.suppress(OSError):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        import tempfile  # here: a cache hit writes nothing

        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh)
            os.replace(tmp, _entry(key))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
