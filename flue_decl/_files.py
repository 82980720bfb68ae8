"""Reading what a path names, the same way everywhere: a file's bytes capped, and a path
argument told from anything else. Kept apart from discovery (``_discover``) so that
loading an artifact or a secret file imports neither discovery's tables nor its
classes."""

from __future__ import annotations

import errno
import os
import stat


def one_path(path: object, *, what: str = "path") -> str:
    """One path (``str`` or ``os.PathLike``), else a TypeError that says so."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{what}: expected a path (str or os.PathLike), got {type(path).__name__}")
    return _one_path(path, what)


def _one_path(path: object, what: str) -> str:
    text = os.fspath(path) if isinstance(path, str | os.PathLike) else None
    if not isinstance(text, str):
        raise TypeError(
            f"{what}: expected a path (str or os.PathLike of str), got {type(path).__name__}"
        )
    return text


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
