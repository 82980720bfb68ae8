"""Secret files: what ``{{ secret.NAME }}`` reads.

Docker and Kubernetes mount secrets as files (``/run/secrets/NAME``, a Secret volume whose
files link through ``..data``) and rotate them by replacing the file. A template names a
file of the secrets directory (``FLUE_DECL_SECRETS_DIR``, default ``/run/secrets``); its
content, with one trailing newline removed, is the value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence

from .._domain import Call
from .._files import read_capped
from ..templates import MAX_OUTPUT_CHARS, SECRET_NAME, secret_names, templated_fields
from ._lines import Calls

SECRETS_DIR_ENV = "FLUE_DECL_SECRETS_DIR"
DEFAULT_SECRETS_DIR = "/run/secrets"
MAX_SECRET_BYTES = MAX_OUTPUT_CHARS  # a value is at most that long anyway


def secrets_dir(given: str | os.PathLike[str] | None = None) -> str:
    """The secrets directory: ``given``, else ``FLUE_DECL_SECRETS_DIR``, else /run/secrets."""
    if given is not None:
        return os.fspath(given)
    return os.environ.get(SECRETS_DIR_ENV) or DEFAULT_SECRETS_DIR


class SecretFiles(Mapping[str, str]):
    """The files of a secrets directory by name, each read once, when first asked for. A
    name that is not a readable regular file of at most ``MAX_SECRET_BYTES`` inside the
    directory (links may point within it, as Kubernetes' do) is missing; :meth:`why` says
    why, never with the content. Nothing is listed: files are read by name only."""

    __slots__ = ("_read", "_why", "directory")

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = secrets_dir(directory)
        self._read: dict[str, str | None] = {}
        self._why: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self._read:
            self._read[name] = self._load(name)
        value = self._read[name]
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"SecretFiles({self.directory!r})"

    def why(self, name: str) -> str:
        """Why ``name`` is missing (after a lookup failed)."""
        return self._why.get(name, f"there is no file `{name}` in {self.directory}")

    def _load(self, name: str) -> str | None:
        if not SECRET_NAME.fullmatch(name) or name in (".", ".."):
            self._why[name] = f"`{name}` is not a file name"
            return None
        path = os.path.join(self.directory, name)
        try:
            real = os.path.realpath(path)
            root = os.path.realpath(self.directory)
            if os.path.commonpath([real, root]) != root:
                self._why[name] = f"`{name}` in {self.directory} links outside it"
                return None
            if not os.path.isfile(real):
                if os.path.lexists(path):
                    self._why[name] = f"`{name}` in {self.directory} is not a regular file"
                return None
            before = os.stat(real)
            raw = read_capped(real, MAX_SECRET_BYTES)
            after = os.stat(real)
        except (OSError, ValueError):
            return None
        if len(raw) > MAX_SECRET_BYTES:
            self._why[name] = (
                f"`{name}` in {self.directory} is larger than {MAX_SECRET_BYTES} bytes"
            )
            return None
        if _stamp(before) != _stamp(after) or len(raw) != after.st_size:
            # A writer rewriting it in place: half a key is no key (a watch tries again).
            self._why[name] = f"`{name}` in {self.directory} changed while it was read"
            return None
        text = raw.decode("utf-8", "surrogateescape")  # not UTF-8: refused as not text
        value = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
        if not value:
            # Truncated by a writer that has not written yet, or never filled: not a key.
            self._why[name] = f"`{name}` in {self.directory} is empty"
            return None
        return value


def _stamp(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def referenced_secrets(calls: Sequence[Call]) -> tuple[str, ...]:
    """The secret files the templates of ``calls`` read, sorted (of an artifact's, only
    the lines that may name one are decoded)."""
    read = calls.containing((b"secret",)) if isinstance(calls, Calls) else calls
    return tuple(
        sorted(
            {
                name
                for call in read
                for _, source in templated_fields(call.kind.name, call.payload)
                for name in secret_names(source)
            }
        )
    )
