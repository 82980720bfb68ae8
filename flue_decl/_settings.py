"""Settings: a project's flue-decl options kept in a file instead of on every command line.

The file is ``flue-decl.toml`` (keys at the top level) or the ``[tool.flue-decl]`` table of
``pyproject.toml``. The command line finds it by walking up from the current directory
(:func:`find_settings`); services read one only when given ``settings=``. Each effective
value comes from the first of these sources that sets it (:data:`PRECEDENCE`)::

    command line (or a keyword argument of the Python API)  >  settings file  >  default

A key that falls back to its default may still have one of its own below that: an unset
``secrets-dir`` reads ``FLUE_DECL_SECRETS_DIR``, unset ``handler-modules``
``FLUE_DECL_HANDLER_MODULES``, as they always did. Paths in the file (``paths``,
``secrets-dir``) and ``per-file-ignores`` patterns are relative to the file's directory.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._codes import why_not_silenced
from ._errors import Diagnostic, Place, SettingsError, Severity, did_you_mean
from ._files import one_path, read_capped
from ._settingkeys import (
    FILE_NAME,
    KEYS,
    MAX_SETTINGS_BYTES,
    PYPROJECT,
    TABLE,
    InvalidValue,
    Settings,
)


def find_settings(start: str | os.PathLike[str] | None = None) -> str | None:
    """The nearest settings file from ``start`` (default: the current directory) upwards,
    stopping after the first directory that holds ``.git`` (a project's root), else at the
    filesystem root. ``flue-decl.toml`` wins over ``pyproject.toml`` in one directory; a
    ``pyproject.toml`` without ``[tool.flue-decl]`` does not count."""
    for directory in _walk(start):
        candidate = os.path.join(directory, FILE_NAME)
        if os.path.isfile(candidate):
            return _shown(candidate)
        candidate = os.path.join(directory, PYPROJECT)
        if os.path.isfile(candidate) and _has_table(candidate):
            return _shown(candidate)
    return None


def searched(start: str | os.PathLike[str] | None = None) -> list[str]:
    """Every path :func:`find_settings` may read from ``start``, as the tree is now: each
    directory of its walk, and in it the two settings files and ``.git``."""
    names = (FILE_NAME, PYPROJECT, ".git")
    return [p for d in _walk(start) for p in (d, *(os.path.join(d, n) for n in names))]


def _walk(start: str | os.PathLike[str] | None) -> Iterator[str]:
    try:
        directory = os.path.abspath(os.curdir if start is None else start)
    except OSError:  # the current directory was removed: there is nothing to find
        return
    while True:
        yield directory
        parent = os.path.dirname(directory)
        if os.path.exists(os.path.join(directory, ".git")) or parent == directory:
            return
        directory = parent


def untrusted(path: str) -> str | None:
    """Why a settings file found by walking up should not be used, or None. Outside a git
    repository the walk reaches shared directories (``/tmp``), where another user could
    plant a file that points validate at another tree: a found file must belong to this
    user (or root) and not be writable by everyone; so must a symbolic link found in its
    place (its target alone would let anyone point at a harmless root-owned file). Root
    trusts any owner, as it must in a container on a mounted checkout. A file named with
    ``--settings`` is always used."""
    if not hasattr(os, "getuid"):
        return None  # no POSIX owners (Windows)
    try:
        link, info = os.lstat(path), os.stat(path)
    except OSError as exc:
        return f"cannot inspect it: {exc.strerror or exc}"
    if info.st_mode & 0o002:
        return "it is writable by every user"
    uid = os.getuid()
    if uid != 0 and {link.st_uid, info.st_uid} - {uid, 0}:
        return "it belongs to another user"
    return None


def _shown(path: str) -> str:
    """``path`` relative to the current directory (a found file is in it or above it), so
    the paths read from it show as they would be typed: ``../providers.d/x.yaml``."""
    try:
        return os.path.relpath(path)
    except (OSError, ValueError):
        return path


def _has_table(pyproject: str) -> bool:
    try:
        raw = read_capped(pyproject, MAX_SETTINGS_BYTES)
    except OSError:
        return False
    if b"flue-decl" not in raw and b"\\u" not in raw and b"\\U" not in raw:
        return False  # no way to name the table (only \u escapes spell it otherwise)
    import tomllib  # here: most runs read no settings file (3 ms)

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        # Someone else's broken pyproject is not ours to report, unless it meant to be.
        return b"flue-decl" in raw
    tool = data.get("tool")
    return isinstance(tool, dict) and "flue-decl" in tool


def read_settings(path: str | os.PathLike[str]) -> Settings:
    """The settings of one file (every key it does not set at its default). Raises
    :class:`SettingsError` (exit 2 on the command line) for a file that cannot be read, is
    not TOML, or has an unknown key, a value of the wrong type or an unknown code, each at
    its file:line with a hint."""
    file = os.fspath(path)
    table = TABLE if os.path.basename(file) == PYPROJECT else ()
    text, digest = _read(file)
    import tomllib  # here: most runs read no settings file (3 ms)

    try:
        data: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, column = (int(found[1]), int(found[2])) if found else (1, 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise _error(f"not valid TOML: {message}", Place(file, line, column), None) from None
    except RecursionError:  # tomllib reads nested arrays recursively
        raise _error("not valid TOML: nested too deeply", None, None, file) from None
    for part in table:
        data = data.get(part) if isinstance(data, dict) else None
    if not isinstance(data, dict):
        raise _error(
            f"{file} has no [{'.'.join(table)}] table",
            Place(file, 1, 1),
            "add [tool.flue-decl] with your keys, or put them in flue-decl.toml",
        )
    problems: list[Diagnostic] = []
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, raw in data.items():
        place = Place(file, _line_of(text, table, key), 1)
        spec = KEYS.get(key)
        if spec is None:
            hint = did_you_mean(key, KEYS) or "keys: " + ", ".join(KEYS)
            problems.append(_diagnostic(f"unknown settings key `{key}`", place, hint))
            continue
        try:
            value = spec.read(raw)
        except InvalidValue as exc:
            problems.append(_diagnostic(f"`{key}` must be {exc}", place, None))
            continue
        if key == "ignore":
            problems.extend(_code_problems(key, value, place))
        elif key == "per-file-ignores":
            for pattern, codes in value:
                line = _line_of(text, (*table, key), pattern)
                where = Place(file, line, 1) if line > 1 else place
                problems.extend(_code_problems(key, codes, where))
        values[key] = value
        sources[key] = f"{place.file}:{place.line}"
    if problems:
        raise SettingsError(problems)
    root = os.path.dirname(file)
    if "paths" in values:
        values["paths"] = tuple(os.path.normpath(os.path.join(root, p)) for p in values["paths"])
    if "secrets-dir" in values:
        values["secrets-dir"] = os.path.normpath(os.path.join(root, values["secrets-dir"]))
    return effective({}, values, file=file, file_sources=sources, digest=digest)


def _read(file: str) -> tuple[str, str]:
    """The file's text and the sha256 of its bytes."""
    try:
        # Never blocks on a FIFO, never reads more than the cap.
        raw = read_capped(file, MAX_SETTINGS_BYTES)
        if len(raw) > MAX_SETTINGS_BYTES:
            message = f"{file} is larger than {MAX_SETTINGS_BYTES} bytes"
            raise _error(message, None, None, file)
        return raw.decode("utf-8-sig"), hashlib.sha256(raw).hexdigest()
    except FileNotFoundError:
        raise SettingsError(
            [
                Diagnostic(
                    Severity.ERROR,
                    "input-not-found",
                    f"no such settings file: {file}",
                    file=file,
                    hint="name an existing flue-decl.toml or pyproject.toml",
                )
            ]
        ) from None
    except OSError as exc:
        raise _error(f"cannot read {file}: {exc.strerror or exc}", None, None, file) from None
    except UnicodeDecodeError:
        raise _error(f"{file} is not UTF-8 text", None, None, file) from None


def _code_problems(key: str, codes: frozenset[str], place: Place) -> list[Diagnostic]:
    """Codes in ``ignore`` and ``per-file-ignores`` must exist and not be errors: an error
    means Flue would refuse the tree or a key would leak, which no setting may hide."""
    out = []
    for code in sorted(codes):
        refused = why_not_silenced(code, "ignored", where=f" in `{key}`")
        if refused is not None:
            message, hint = refused
            out.append(_diagnostic(message, place, hint))
    return out


def _diagnostic(message: str, place: Place, hint: str | None) -> Diagnostic:
    return Diagnostic.at("invalid-settings", message, place, hint=hint)


def _error(
    message: str, place: Place | None, hint: str | None, file: str | None = None
) -> SettingsError:
    """An error at ``place``, or about the whole ``file`` (one that cannot be read)."""
    if place is None:
        return SettingsError([Diagnostic(Severity.ERROR, "invalid-settings", message, file=file)])
    return SettingsError([_diagnostic(message, place, hint)])


def _line_of(text: str, table: Sequence[str], key: str) -> int:
    """The line where ``key`` is set inside ``table``; else where the table itself is
    (an inline table, dotted keys); else 1. tomllib keeps no positions, so the text is
    read for them."""
    current: tuple[str, ...] = ()
    wanted = tuple(table)
    fallback = 1
    for number, line in enumerate(text.split("\n"), 1):  # TOML breaks lines at \n only
        header = re.match(r"\s*\[([^\[\]]+)\]\s*(#.*)?$", line)
        if header:
            current = tuple(p.strip().strip("\"'") for p in header[1].split("."))
            if current == (*wanted, key):
                return number
            if current == wanted and fallback == 1:
                fallback = number
            continue
        if current == wanted and _sets(line, key):
            return number
        if wanted and current == wanted[:-1] and fallback == 1 and _sets(line, wanted[-1]):
            fallback = number
    return fallback


def _sets(line: str, key: str) -> bool:
    """Whether a TOML line sets ``key`` (``key =``, ``"key" =``, ``key.sub =``)."""
    return re.match(rf"""\s*["']?{re.escape(key)}["']?\s*[=.]""", line) is not None


def effective(
    given: Mapping[str, Any],
    file_values: Mapping[str, Any],
    *,
    file: str | None = None,
    file_sources: Mapping[str, str] | None = None,
    digest: str = "",
) -> Settings:
    """Settings from the sources in :data:`PRECEDENCE` order: ``given`` (the command line
    or keyword arguments; ``None`` means not given), then ``file_values``, then defaults."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, spec in KEYS.items():
        if given.get(key) is not None:
            values[key], sources[key] = given[key], "command line"
        elif key in file_values:
            values[key] = file_values[key]
            sources[key] = (file_sources or {}).get(key, file or "settings file")
        else:
            values[key], sources[key] = spec.default, "default"
    fields = {key.replace("-", "_"): value for key, value in values.items()}
    return Settings(**fields, file=file, sources=sources, digest=digest)


def settings_for(
    settings: str | os.PathLike[str] | Settings | None, **given: Any
) -> Settings:
    """The effective settings of a Python API call: ``settings`` (a file, read; already
    read; or None: no file, never one found by walking up) under the keyword arguments
    ``given`` (``None``: not given), keyed as in :data:`KEYS` with ``_`` for ``-``."""
    if settings is None:
        base = Settings()
    elif isinstance(settings, Settings):
        base = settings
    else:
        base = read_settings(one_path(settings, what="settings"))
    chosen = {k.replace("_", "-"): v for k, v in given.items()}
    unknown = set(chosen) - set(KEYS)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    set_before = {
        k: getattr(base, k.replace("-", "_"))
        for k, source in base.sources.items()
        if source != "default"
    }
    return effective(
        chosen, set_before, file=base.file, file_sources=base.sources, digest=base.digest
    )
