"""What reaches standard output is whole, or the command says it is not (exit 2); Ctrl-C
gives 130 and one line, never a traceback; a killed compile leaves nothing for long."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import REPO, write_files

PROVIDER = "kind: Provider\nid: p{n}\napi: openai-completions\nbaseUrl: https://p{n}.example/v1\n"


EXAMPLES = str(REPO / "providers.d")


def cli(*args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    """``flue-decl ARGS`` started as a user starts it (``stdout``, ``stderr``... as Popen's)."""
    command = [sys.executable, "-m", "flue_decl", *args]
    return subprocess.Popen(command, **kwargs)  # type: ignore[call-overload, no-any-return]


def big_tree(root: Path, files: int) -> Path:
    write_files(root, {f"providers.d/{n:05d}.yaml": PROVIDER.format(n=n) for n in range(files)})
    return root / "providers.d"


def test_a_full_disk_is_exit_2(tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        done = cli("compile", "--isolated", EXAMPLES, stdout=full, stderr=subprocess.PIPE)
        _, err = done.communicate(timeout=60)
    assert done.returncode == 2
    said = "flue-decl: cannot write to standard output: No space left on device"
    assert err.decode().strip() == said


def test_a_file_size_limit_is_exit_2_not_a_truncated_artifact(tmp_path: Path) -> None:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    out = tmp_path / "registry.json"
    with open(out, "wb") as fh:
        done = cli(
            "compile", "--isolated", EXAMPLES, stdout=fh, stderr=subprocess.PIPE, preexec_fn=limit
        )
        _, err = done.communicate(timeout=60)
    assert done.returncode == 2
    assert "cannot write to standard output: File too large" in err.decode()


def test_a_closed_pipe_is_never_exit_0(tmp_path: Path) -> None:
    tree = big_tree(tmp_path, 300)
    done = cli("compile", "--isolated", str(tree), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert done.stdout is not None
    done.stdout.close()  # the reader went away before the artifact was written
    _, err = done.communicate(timeout=60)
    assert done.returncode in (2, -signal.SIGPIPE), err
    assert b"Traceback" not in err


def _reading(pid: int, tree: Path, deadline: float) -> bool:
    """Whether process ``pid`` came to have a file of ``tree`` open: the command is running
    (the interpreter's start-up, when Ctrl-C cannot be handled yet, is over)."""
    while time.monotonic() < deadline:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return False  # it has ended
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(tree)):
                    return True
            except OSError:
                continue  # closed meanwhile
    return False


def test_ctrl_c_while_running_is_130_and_one_line(tmp_path: Path) -> None:
    tree = big_tree(tmp_path, 3000)
    interrupted = 0
    for attempt in range(3):
        done = cli(
            "validate",
            "--isolated",
            "--no-cache",
            str(tree),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        running = _reading(done.pid, tree, time.monotonic() + 30)
        if not running:
            done.communicate(timeout=60)
            continue  # it ended before it could be interrupted
        done.send_signal(signal.SIGINT)
        if attempt == 2:
            done.send_signal(signal.SIGINT)  # a second Ctrl-C while the first unwinds
        _, err = done.communicate(timeout=60)
        assert b"Traceback" not in err, err
        if done.returncode == 130:
            interrupted += 1
            assert err.decode().splitlines() == ["flue-decl: interrupted"]
        else:
            assert done.returncode in (0, 1), err  # it had already finished
    assert interrupted >= 1


def test_a_killed_compiles_temporary_file_is_removed_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "registry.json"
    orphan = tmp_path / "registry.json.tmp-999999999"  # no such process
    orphan.write_text("half an artifact")
    ours = tmp_path / f"registry.json.tmp-{os.getpid()}"  # a writer still running
    ours.write_text("in progress")
    # Names no pid can have, and files that are not ours: left alone, never a crash.
    huge = tmp_path / "registry.json.tmp-99999999999999999999999"
    unrelated = tmp_path / "backup-20240101120000123456789"
    for other in (huge, unrelated):
        other.write_text("x")
    done = cli("compile", "--isolated", EXAMPLES, "-o", str(out), stderr=subprocess.PIPE)
    done.communicate(timeout=60)
    assert done.returncode == 0
    assert out.exists()
    assert not orphan.exists()
    assert ours.exists()
    assert unrelated.exists()
    assert not huge.exists()  # no process has that number: its writer is gone


def test_a_non_blocking_stdout_that_fills_up_is_waited_for(tmp_path: Path) -> None:
    tree = big_tree(tmp_path, 1500)  # an artifact far larger than a pipe's buffer
    read, write = os.pipe()
    os.set_blocking(write, False)  # as some CI runners hand it over
    done = cli("compile", "--isolated", str(tree), stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    chunks = []
    with os.fdopen(read, "rb") as reader:
        while chunk := reader.read(4096):
            chunks.append(chunk)
            time.sleep(0.0005)  # a slow reader: the pipe is full most of the time
    _, err = done.communicate(timeout=120)
    assert done.returncode == 0, err.decode()
    assert b"".join(chunks).rstrip().endswith(b"}")
