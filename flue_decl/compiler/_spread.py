"""A compile's work spread over forked worker processes (``compile_paths(jobs=N)``).

The parent forks one child for every part but its own, does its own part, then reads each
child's answer (bytes through a pipe, followed by their length) in order. A child that
fails for any reason (killed, an exception, an answer cut short, an exit status not 0)
gives ``None``, and the caller does that part itself: a worker can make a compile faster,
never change or lose its answer. Children write nothing else anywhere and leave by
``os._exit`` (no buffer of the parent's flushed twice, no exit handler run).

Forking is used only where it is safe (:func:`usable`): a platform with ``fork`` that is
not macOS (whose system libraries are not safe to use in a forked child), called from the
main thread of a process that has no other thread, counted by the system where it can
(``/proc/self/task``: threads started by C code or ``_thread`` count too; a lock another
thread holds at the fork would stay held in the child). Anywhere else everything runs in
the calling process. Should a worker stop answering all the same, the parent waits for it
``PATIENCE`` times as long as its own part took (at least ``MIN_WAIT`` seconds), then
kills it and does its part. A worker whose parent is gone stops at its next step
(:func:`stop_if_abandoned`): nobody would read its answer.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
_CHUNK = 1 << 20
PATIENCE = 10  # a worker's share is about the parent's: ten times as long is a stuck one
MIN_WAIT = 5.0
_parent: int | None = None  # in a worker: the process that forked it


def usable(jobs: int) -> int:
    """How many processes a compile asked for ``jobs`` may use here (1: no fork): no more
    than the CPUs this process may run on (more would only wait their turn)."""
    if jobs <= 1 or not hasattr(os, "fork") or sys.platform == "darwin":
        return 1
    if not _alone() or threading.current_thread() is not threading.main_thread():
        return 1
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return max(1, min(jobs, len(cpus) if cpus is not None else os.cpu_count() or 1))


def _alone() -> bool:
    """Whether this process runs one thread: as the system counts them where it says,
    else as Python's ``threading`` and ``_thread`` do."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1 and _thread._count() == 0


def stop_if_abandoned() -> None:
    """In a worker, between steps: leave at once if the parent is gone."""
    if _parent is not None and os.getppid() != _parent:
        os._exit(1)


def spread(
    parts: Sequence[Callable[[], bytes]], own: Callable[[], T]
) -> tuple[T, list[bytes | None]]:
    """``own()`` run here while a forked child runs each of ``parts``; with each child's
    bytes, or None where it failed."""
    children: list[tuple[int, int]] = []  # (pid, read end)
    try:
        for part in parts:
            child = _fork(part, [fd for _, fd in children if fd >= 0])
            children.append(child or (0, -1))  # none: out of processes or descriptors
        started = time.monotonic()
        mine = own()
        deadline = time.monotonic() + max(MIN_WAIT, PATIENCE * (time.monotonic() - started))
        answers = []
        while children:
            pid, read = children[0]
            answers.append(_answer(pid, read, deadline) if pid else None)
            del children[0]  # read and reaped
        return mine, answers
    finally:
        for pid, read in children:  # own() failed (Ctrl-C): no child left behind
            if not pid:
                continue
            with contextlib.suppress(OSError):
                os.close(read)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)


def _fork(part: Callable[[], bytes], others: list[int]) -> tuple[int, int] | None:
    """A child running ``part``: its pid and the read end of its answer; None where the
    system refuses a pipe or a process (the parent does the part itself)."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # pragma: no cover - the child: coverage is not written from here
        global _parent  # noqa: PLW0603 - the child's own copy of this module
        _parent = parent
        _child(part, write, [read, *others])
    os.close(write)
    return pid, read


def _child(part: Callable[[], bytes], write: int, others: list[int]) -> None:
    code = 1
    try:
        for fd in others:
            os.close(fd)
        answer = part()
        view = memoryview(answer + len(answer).to_bytes(8, "big"))  # whole, or refused
        while view:
            view = view[os.write(write, view[:_CHUNK]) :]
        code = 0
    except BaseException:  # whatever it was, the parent does this part itself
        pass
    finally:
        os._exit(code)


def _answer(pid: int, read: int, deadline: float) -> bytes | None:
    chunks: list[bytes] = []
    cut = False
    wait = max(0.0, deadline - time.monotonic())  # for its first bytes; then each chunk's
    try:
        while True:
            if not select.select([read], [], [], wait)[0]:
                cut = True  # stuck: killed, its part done by the parent
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(read, _CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            wait = MIN_WAIT  # it answers: each further chunk is a pipe's worth away
    except OSError:
        cut = True
    finally:
        os.close(read)
    try:
        _, status = os.waitpid(pid, 0)
        failed = os.waitstatus_to_exitcode(status) != 0
    except ChildProcessError:  # reaped already (SIGCHLD ignored): the length tells
        failed = False
    answer = b"".join(chunks)
    if cut or failed or len(answer) < 8:
        return None
    size = int.from_bytes(answer[-8:], "big")
    return answer[:-8] if size == len(answer) - 8 else None
