"""The settings keys: one table (:data:`KEYS`) of each key's type, default and meaning
(docs/settings.md is generated from it), and :class:`Settings`, the effective values with
the source of each. Finding and reading a settings file is ``_settings``'s."""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._discover import DEFAULT_PATHS, MAX_FILE_BYTES
from ._errors import Diagnostic, Severity

FILE_NAME = "flue-decl.toml"
PYPROJECT = "pyproject.toml"
MAX_SETTINGS_BYTES = 1 << 20
TABLE = ("tool", "flue-decl")
FORMATS = ("auto", "text", "json", "github", "sarif")
PRECEDENCE = ("command line", "settings file", "default")
_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z")


class InvalidValue(Exception):
    """A settings value of the wrong shape; the message says what was expected."""


def _layers(value: Any) -> tuple[str, ...]:
    if not value:
        raise InvalidValue('a list of one or more paths (["providers.d"])')
    return _strings(value)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidValue("a list of non-empty strings")
    return tuple(value)


def _modules(value: Any) -> tuple[str, ...]:
    names = _strings(value)
    if not all(_MODULE.match(name) for name in names):
        raise InvalidValue('a list of module names (["acme_llm"])')
    return names


def _codes(value: Any) -> frozenset[str]:
    return frozenset(_strings(value))


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue("true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValue("a non-empty string")
    return value


def _size(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidValue("a positive number of bytes")
    return value


def _format(value: Any) -> str:
    if value not in FORMATS:
        raise InvalidValue("one of " + ", ".join(map(repr, FORMATS)))
    return str(value)


def _patterns(value: Any) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise InvalidValue('a table of patterns and codes ({"providers.d/legacy-*" = ["..."]})')
    try:
        return tuple((pattern, _codes(codes)) for pattern, codes in value.items())
    except InvalidValue:
        raise InvalidValue("a table whose every pattern maps to a list of codes") from None


@dataclass(frozen=True, slots=True)
class Key:
    """One settings key: its default, and how a file's value is read (the value, or what
    was expected instead, as a string)."""

    default: Any
    read: Callable[[Any], Any]  # the value, or raises InvalidValue
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
