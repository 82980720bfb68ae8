"""Standard output written whole, or a failure the command reports.

CPython's buffered writer can lose the rest of a large write that a file took only part of
(a full disk, ``RLIMIT_FSIZE``) without an exception, so a command would exit 0 after a
truncated artifact. Here every byte goes through ``os.write`` in a loop until it is all
written or the system says why not; that reason is raised as :class:`StdoutError` and the
command exits 2 with one line saying it.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import select
import sys
from collections.abc import Iterator
from typing import Any, TextIO


class StdoutError(OSError):
    """Standard output could not take everything (a full disk, a closed pipe)."""


class _WholeWriter(io.RawIOBase):
    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._failed = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:  # colour on a terminal, as before
        return os.isatty(self._fd)

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if self._failed:
            return len(view)  # already reported: the rest goes nowhere, quietly
        done = 0
        while done < len(view):
            try:
                written = os.write(self._fd, view[done:])
            except InterruptedError:
                continue
            except BlockingIOError:  # a non-blocking pipe that is full: wait, not a failure
                select.select([], [self._fd], [])
                continue
            except OSError as exc:
                self._failed = True
                raise StdoutError(exc.errno, exc.strerror) from None
            if written == 0:
                self._failed = True
                raise StdoutError(errno.EIO, "nothing more could be written")
            done += written
        return done


@contextlib.contextmanager
def checked_stdout() -> Iterator[TextIO]:
    """``sys.stdout`` written whole for the time of a command; flush what it yields before
    leaving to learn (as StdoutError) whether everything was written. A stream without a
    file descriptor (a test's capture) is used as it is."""
    original = sys.stdout
    if original is None:  # started with standard output closed (`>&-`)
        raise StdoutError(errno.EBADF, os.strerror(errno.EBADF))
    try:
        fd = original.fileno()
    except (AttributeError, OSError, ValueError):
        yield original
        return
    original.flush()
    stream = io.TextIOWrapper(
        io.BufferedWriter(_WholeWriter(fd)),
        encoding=getattr(original, "encoding", None) or "utf-8",
        errors="backslashreplace",  # a file name that is not UTF-8 is shown escaped
        line_buffering=bool(getattr(original, "line_buffering", False)),
    )
    sys.stdout = stream
    try:
        yield stream
    finally:
        sys.stdout = original
        with contextlib.suppress(OSError, ValueError):
            stream.flush()  # what is left after a failure goes nowhere, quietly
        stream.detach()  # the descriptor stays the process's
