"""A tree's polls in a child process: what an isolated :class:`~flue_decl._load.Tree` asks
at every poll after the first.

Why: a poll is a ``stat`` of every file, and each ``stat`` gives the GIL up. In a service
whose threads keep the interpreter busy, taking it back waits for the switch interval
(5 ms), so one poll of 1,000 files took 5 s of wall time and a reload 15-20 s (issue 22).
The child (``_load.poll_in_child``) stats and hashes the files (``Tree.scan``, the same
code a non-isolated tree runs) and answers with one line: the digest of what it saw, or
the error that stops reading the tree. The service waits for that line once per poll.

Protocol: the parent writes the pickled settings and secrets directory, then one JSON line
per poll (the secret files the last load read); the child writes a marker line once
started, then one JSON line per poll: ``{"digest": ...}`` or ``{"diagnostics": [...]}``.
The child ends when its stdin closes (the parent stopped the watch, let the tree go, or
died). Whenever the child cannot be started, or gives no whole answer within
``POLL_TIMEOUT`` (a hung child is killed), that poll is made in this process and the child
started again at the next; after ``MAX_FAILURES`` in a row, every poll is.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import select
import subprocess
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

from ._errors import ConfigError, Diagnostic
from ._isolated import child_command, child_environment
from ._settingkeys import Settings

MARKER = b"\0flue-decl-poller\0\n"
MAX_FAILURES = 3
START_TIMEOUT = 60.0  # seconds for a child to start; it is killed after
POLL_TIMEOUT = 120.0  # seconds for one poll's answer (a hung child is killed)
_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from flue_decl._load import poll_in_child; poll_in_child()"
)


def _shutdown(process: subprocess.Popen[bytes], *, close_stdout: bool = True) -> None:
    """End the child: its stdin closed, it exits; one that does not within 0.3 s is
    killed. Always reaped. ``close_stdout=False`` while a poll may still read it: that poll
    closes it (a descriptor closed under a reader could be reused by another file)."""
    with contextlib.suppress(OSError):
        if process.stdin is not None:
            process.stdin.close()
    try:
        process.wait(timeout=0.3)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if close_stdout and process.stdout is not None:
        with contextlib.suppress(OSError):
            process.stdout.close()


class _NoAnswer(Exception):
    """The child gave no whole line in time, or ended."""


def _read_line(fd: int, pending: bytearray, deadline: float) -> bytes:
    """The next line from ``fd`` (``pending``: what was read past the last line), waiting
    no later than ``deadline`` (``time.monotonic()``)."""
    while True:
        end = pending.find(b"\n")
        if end != -1:
            line = bytes(pending[: end + 1])
            del pending[: end + 1]
            return line
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise _NoAnswer("no answer in time")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise _NoAnswer("the child ended")
        pending += chunk


class Poller:
    """Polls of the tree of ``options`` answered by a child process (see the module
    docstring). :meth:`digest` returns None when this poll must be made here.
    ``secrets_dir``: where the tree's ``secret.NAME`` files are, as this process found it
    (the child's environment does not say)."""

    def __init__(self, options: Settings, secrets_dir: str) -> None:
        self._options, self._secrets_dir = options, secrets_dir
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._pending = bytearray()
        self._pid = 0  # the process that started it: a fork must not share its pipes
        self._failures = 0
        self._closes = 0  # close() calls: a child started across one is ended at once
        self._end: weakref.finalize[Any, Any] | None = None  # a tree let go ends its child

    def digest(self, secrets: Sequence[str]) -> str | ConfigError | None:
        if self._failures >= MAX_FAILURES:
            return None
        with self._lock:
            process = self._process if self._pid == os.getpid() else None
            if process is None:
                process = self._start()
            if process is None:
                self._failures += 1
                return None
            assert process.stdin is not None
            assert process.stdout is not None
            try:
                process.stdin.write(json.dumps(list(secrets)).encode() + b"\n")
                process.stdin.flush()
                line = _read_line(
                    process.stdout.fileno(), self._pending, time.monotonic() + POLL_TIMEOUT
                )
                answer = json.loads(line)
                if "digest" in answer:
                    self._failures = 0
                    return str(answer["digest"])
                return ConfigError([Diagnostic.decoded(d) for d in answer["diagnostics"]])
            except (_NoAnswer, OSError, ValueError, KeyError, TypeError):  # "crash" too
                self._failures += 1
                self.close()  # a hung child is killed; the next poll starts another
                return None
            except BaseException:  # interrupted between question and answer
                self.close()  # its answer would be taken for the next poll's
                raise
            finally:
                if self._process is not process and process.stdout is not None:
                    with contextlib.suppress(OSError):  # closed meanwhile: see _shutdown
                        process.stdout.close()

    def _start(self) -> subprocess.Popen[bytes] | None:
        closes = self._closes
        try:
            process = subprocess.Popen(
                child_command(_BOOT),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=child_environment(os.environ),
            )
        except OSError:
            return None
        assert process.stdin is not None
        assert process.stdout is not None
        pending = bytearray()
        try:
            process.stdin.write(pickle.dumps((self._options, self._secrets_dir)))
            process.stdin.flush()
            deadline = time.monotonic() + START_TIMEOUT
            # Up to the marker line (a site hook may print before it).
            while not _read_line(process.stdout.fileno(), pending, deadline).endswith(MARKER):
                pass
        except (_NoAnswer, OSError):
            _shutdown(process)
            return None
        except BaseException:
            _shutdown(process)
            raise
        self._process, self._pid, self._pending = process, os.getpid(), pending
        self._end = weakref.finalize(self, _shutdown, process)
        if closes != self._closes:  # close() ran meanwhile (a stop()): this child too
            self.close()  # (set first, so a close() now or before either way ends it)
            with contextlib.suppress(OSError):  # the reader (this poll) closes its output
                process.stdout.close()
            return None
        return process

    def close(self) -> None:
        """End the child (a later poll starts another). Does not wait for a poll in
        progress: that poll gets no answer and is made in this process; a child being
        started is ended as soon as it is."""
        self._closes += 1
        end, process, self._end, self._process = self._end, self._process, None, None
        if end is None or process is None or self._pid != os.getpid():
            return
        end.detach()  # ended here, once
        # A poll holding the lock reads the child's output: it closes it when done.
        _shutdown(process, close_stdout=not self._lock.locked())
