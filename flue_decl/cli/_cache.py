"""Validation cache: re-validating an unchanged tree costs a hash of its files.

The key is a SHA-256 over flue-decl's version and code, the schemas, the catalog, the
effective settings (the settings file's place and bytes too), the input paths, what the
directory listing says about entries it does not read, and every input file's name, layer
and bytes, so any change to any of them is a miss and the tree is
validated from scratch. An entry is JSON (never pickle: nothing from the cache can run),
written to a temporary file and renamed into place, so concurrent runs never see half an
entry; an unreadable or malformed entry is a miss.

Directory: ``$FLUE_DECL_CACHE_DIR``, else ``$XDG_CACHE_HOME/flue-decl``, else
``~/.cache/flue-decl`` (created 0700).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from .._discover import Discovery, discover, read_capped
from .._domain import schema_dir
from .._errors import Diagnostic, Severity
from .._settingkeys import Settings
from .._version import __version__

FORMAT = "flue-decl-validation-cache"
VERSION = 2


def cache_dir() -> Path:
    explicit = os.environ.get("FLUE_DECL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "flue-decl"


def _tool_digest() -> bytes:
    """What besides the inputs decides the result: the version, schemas and catalog."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    # A changed flue-decl never reuses old results: its code, schemas and catalog.
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode() + b"\0")
        digest.update(source.read_bytes())
    for schema in sorted(Path(schema_dir()).glob("*.schema.json")):
        digest.update(schema.read_bytes())
    digest.update((package / "_data" / "catalog.json").read_bytes())
    return digest.digest()


def tree_key(paths: Sequence[str], settings: Settings) -> str | None:
    """The key to look a tree up by (its files as they are now), or None when it cannot be
    cached (an input problem)."""
    found = discover(paths)
    if any(d.severity is Severity.ERROR for d in found.diagnostics):
        return None
    files = []
    for source in found.files:
        try:
            data = read_capped(source.path, settings.max_file_bytes)
        except OSError:
            return None
        files.append((source.layer, source.path, hashlib.sha256(data).hexdigest()))
    return _key(paths, settings, found, files)


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


def untrusted(directory: Path) -> str | None:
    """Why entries in ``directory`` cannot be trusted, or None: as ssh and pip do, only a
    directory of this user's that nobody else may write to (a forged passing entry would
    make a failing tree pass)."""
    if not hasattr(os, "getuid"):
        return None  # no POSIX owners (Windows): the user's profile directory is private
    try:
        info = directory.stat()
    except FileNotFoundError:
        return None  # nothing to trust or distrust yet; store() creates it 0700
    except OSError as exc:
        return f"cannot inspect {directory}: {exc.strerror or exc}"
    if info.st_uid != os.getuid():
        return f"{directory} belongs to another user"
    if info.st_mode & 0o022:
        return f"{directory} is writable by other users"
    return None


def load(key: str) -> tuple[tuple[Diagnostic, ...], int] | None:
    """The cached diagnostics and file count for ``key``, or None (a miss, a bad entry, or
    an entry that is not only this user's to write)."""
    try:
        entry = _entry(key)
        info = entry.stat()
        if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
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
