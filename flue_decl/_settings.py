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

import fnmatch
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._codes import why_not_silenced
from ._discover import DEFAULT_PATHS, MAX_FILE_BYTES, one_path, read_capped
from ._errors import Diagnostic, Place, SettingsError, Severity, did_you_mean

FILE_NAME = "flue-decl.toml"
PYPROJECT = "pyproject.toml"
MAX_SETTINGS_BYTES = 1 << 20
TABLE = ("tool", "flue-decl")
FORMATS = ("auto", "text", "json", "github", "sarif")
PRECEDENCE = ("command line", "settings file", "default")
_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z")


class _Invalid(Exception):
    """A settings value of the wrong shape; the message says what was expected."""


def _layers(value: Any) -> tuple[str, ...]:
    if not value:
        raise _Invalid('a list of one or more paths (["providers.d"])')
    return _strings(value)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Invalid("a list of non-empty strings")
    return tuple(value)


def _modules(value: Any) -> tuple[str, ...]:
    names = _strings(value)
    if not all(_MODULE.match(name) for name in names):
        raise _Invalid('a list of module names (["acme_llm"])')
    return names


def _codes(value: Any) -> frozenset[str]:
    return frozenset(_strings(value))


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid("a non-empty string")
    return value


def _size(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _Invalid("a positive number of bytes")
    return value


def _format(value: Any) -> str:
    if value not in FORMATS:
        raise _Invalid("one of " + ", ".join(map(repr, FORMATS)))
    return str(value)


def _patterns(value: Any) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise _Invalid('a table of patterns and codes ({"providers.d/legacy-*" = ["..."]})')
    try:
        return tuple((pattern, _codes(codes)) for pattern, codes in value.items())
    except _Invalid:
        raise _Invalid("a table whose every pattern maps to a list of codes") from None


@dataclass(frozen=True, slots=True)
class Key:
    """One settings key: its default, and how a file's value is read (the value, or what
    was expected instead, as a string)."""

    default: Any
    read: Callable[[Any], Any]  # the value, or raises _Invalid
    help: str


KEYS: dict[str, Key] = {
    "paths": Key(
        None, _layers, "the layers, in order, relative to the settings file; unset: providers.d"
    ),
    "strict": Key(False, _bool, "`validate` fails on warnings too"),
    "known-providers": Key(
        (),
        _strings,
        "provider IDs the service registers in its own code, which ProviderConfiguration "
        "documents may target",
    ),
    "handler-modules": Key(
        None,
        _modules,
        "module-name prefixes ApiProvider handlers may come from (check-handlers, "
        "load_registry); unset: FLUE_DECL_HANDLER_MODULES",
    ),
    "secrets-dir": Key(
        None,
        _text,
        "the directory `secret.NAME` reads, relative to the settings file; unset: "
        "FLUE_DECL_SECRETS_DIR, else /run/secrets",
    ),
    "max-file-bytes": Key(MAX_FILE_BYTES, _size, "files larger than this are refused unread"),
    "format": Key(
        "auto",
        _format,
        "output of validate, check-env and check-handlers: auto (github under GitHub "
        "Actions, else text), text, json, github or sarif",
    ),
    "ignore": Key(frozenset(), _codes, "warning and note codes never reported"),
    "per-file-ignores": Key(
        (),
        _patterns,
        "a table: fnmatch pattern (on the file's path relative to the settings file) -> "
        "warning and note codes",
    ),
}


@dataclass(frozen=True, slots=True)
class Settings:
    """Effective settings: every key of :data:`KEYS` (as attributes with ``_`` for ``-``),
    the file they came from (``None``: none), and the source of each value."""

    paths: tuple[str, ...] | None = None
    strict: bool = False
    known_providers: tuple[str, ...] = ()
    handler_modules: tuple[str, ...] | None = None
    secrets_dir: str | None = None
    max_file_bytes: int = MAX_FILE_BYTES
    format: str = "auto"
    ignore: frozenset[str] = frozenset()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    file: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    digest: str = ""  # sha256 of the file's bytes as read: a cache key, without reading again

    @property
    def root(self) -> str:
        """The directory relative paths and patterns are read from."""
        return os.path.dirname(self.file) if self.file else os.curdir

    def layers(self) -> tuple[str, ...]:
        """The input paths: ``paths`` (a file's are already relative to it), else
        ``providers.d`` beside the settings file (beside the current directory without
        one): the same layers from any directory of the project."""
        if self.paths is not None:
            return self.paths
        if self.file is None:
            return DEFAULT_PATHS
        return tuple(os.path.normpath(os.path.join(self.root, p)) for p in DEFAULT_PATHS)

    def ignored(self, diag: Diagnostic) -> bool:
        """Whether ``ignore`` or ``per-file-ignores`` silence ``diag`` (never an error)."""
        if diag.severity is Severity.ERROR:
            return False
        if diag.code in self.ignore:
            return True
        if not self.per_file_ignores or diag.file is None:
            return False
        try:
            relative = os.path.relpath(diag.file, self.root or os.curdir)
        except (OSError, ValueError):  # no working directory to be relative to
            relative = diag.file
        posix = relative.replace(os.sep, "/")
        return any(
            diag.code in codes and fnmatch.fnmatchcase(posix, pattern)
            for pattern, codes in self.per_file_ignores
        )

    def as_json(self) -> dict[str, Any]:
        """The values by their kebab-case keys, JSON types only."""
        out: dict[str, Any] = {}
        for key in KEYS:
            value = getattr(self, key.replace("-", "_"))
            if isinstance(value, frozenset):
                value = sorted(value)
            elif key == "per-file-ignores":
                value = {pattern: sorted(codes) for pattern, codes in value}
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out

    def cache_token(self) -> str:
        """Everything in these settings that can change a diagnostic, as text for a cache
        key: the values, the file's place and its bytes (a settings change is a miss)."""
        try:
            root = os.path.abspath(self.root)
        except OSError:  # no working directory: the root as written
            root = self.root
        return json.dumps([self.as_json(), root, self.digest], sort_keys=True)


def find_settings(start: str | os.PathLike[str] | None = None) -> str | None:
    """The nearest settings file from ``start`` (default: the current directory) upwards,
    stopping after the first directory that holds ``.git`` (a project's root), else at the
    filesystem root. ``flue-decl.toml`` wins over ``pyproject.toml`` in one directory; a
    ``pyproject.toml`` without ``[tool.flue-decl]`` does not count."""
    try:
        directory = os.path.abspath(os.curdir if start is None else start)
    except OSError:  # the current directory was removed: there is nothing to find
        return None
    while True:
        candidate = os.path.join(directory, FILE_NAME)
        if os.path.isfile(candidate):
            return _shown(candidate)
        candidate = os.path.join(directory, PYPROJECT)
        if os.path.isfile(candidate) and _has_table(candidate):
            return _shown(candidate)
        parent = os.path.dirname(directory)
        if os.path.exists(os.path.join(directory, ".git")) or parent == directory:
            return None
        directory = parent


def untrusted(path: str) -> str | None:
    """Why a settings file found by walking up should not be used, or None. Outside a git
    repository the walk reaches shared directories (``/tmp``), where another user could
    plant a file that points validate at another tree: a found file must belong to this
    user (or root) and not be writable by everyone. Root trusts any owner, as it must in a
    container on a mounted checkout. A file named with ``--settings`` is always used."""
    if not hasattr(os, "getuid"):
        return None  # no POSIX owners (Windows)
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"cannot inspect it: {exc.strerror or exc}"
    if info.st_mode & 0o002:
        return "it is writable by every user"
    uid = os.getuid()
    if uid != 0 and info.st_uid not in (uid, 0):
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
        except _Invalid as exc:
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
        refused = why_not_silenced(code, "ignored")
        if refused is not None:
            kind, hint = refused
            message = (
                f"unknown code `{code}` in `{key}`"
                if kind == "unknown"
                else f"`{code}` is an error and cannot be ignored"
            )
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
    for number, line in enumerate(text.splitlines(), 1):
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
