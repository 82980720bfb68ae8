"""Shared test helpers: real files on disk, the real command line (in this process, or in a
subprocess where a test needs a process of its own)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# FLUE_DECL_TEST_SUBPROCESS=1 runs every run_cli in a subprocess, as before the suite ran
# commands in process: the two must agree (make test-subprocess).
_SUBPROCESS = os.environ.get("FLUE_DECL_TEST_SUBPROCESS") == "1"
# Modules imported from here stay imported between commands; any other (a handler module a
# test wrote in a temporary directory) is forgotten after the command that imported it.
_STABLE = tuple(
    os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, str(REPO / "flue_decl")}
)


# How many examples property tests draw: FLUE_DECL_TEST_PROFILE scales the counts written in
# the tests (the "dev" figures). make test runs "ci", bounded; make test-long runs "long".
PROFILES = {"ci": 0.4, "dev": 1.0, "long": 4.0}
PROFILE = os.environ.get("FLUE_DECL_TEST_PROFILE", "dev")
if PROFILE not in PROFILES:
    raise SystemExit(f"FLUE_DECL_TEST_PROFILE={PROFILE!r}: one of {', '.join(PROFILES)}")


def examples(dev: int) -> int:
    """``dev`` examples scaled by the profile (at least 10)."""
    return max(10, round(dev * PROFILES[PROFILE]))


def write_files(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    subprocess_: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``flue-decl ARGS`` as a user runs it: its environment (this one without API keys and
    colour settings, plus ``env``), its working directory, its exit code, its standard
    output and error as text. Run in this process through ``main`` (standard output and
    error are real files, so the command writes them as it would to a pipe); with
    ``subprocess_`` (or FLUE_DECL_TEST_SUBPROCESS=1) as ``python -m flue_decl``."""
    full_env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    for name in ("NO_COLOR", "GITHUB_ACTIONS", "FORCE_COLOR"):
        full_env.pop(name, None)
    full_env.update(env or {})
    if not (subprocess_ or _SUBPROCESS):
        return _in_process(list(args), cwd or REPO, full_env, timeout)
    return subprocess.run(
        [sys.executable, "-m", "flue_decl", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class _TimedOut(BaseException):
    """Raised by the timer into a command that ran out of time (past every handler of
    Exception; the command's own KeyboardInterrupt handling does not see it either)."""


def _out_of_time(signum: int, frame: object) -> None:
    raise _TimedOut


def _in_process(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    from flue_decl.cli import main

    previous = signal.signal(signal.SIGALRM, _out_of_time)
    try:
        with _as_a_process(cwd, env) as (out, err):
            signal.setitimer(signal.ITIMER_REAL, timeout)  # a hang fails, as a subprocess's
            try:
                code = main(args)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 1
            except _TimedOut:
                raise subprocess.TimeoutExpired(["flue-decl", *args], timeout) from None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout.flush()
            sys.stderr.flush()
    finally:
        signal.signal(signal.SIGALRM, previous)
    return subprocess.CompletedProcess(
        ["flue-decl", *args], code, _text(out), _text(err)
    )


def _text(stream: io.BufferedRandom) -> str:
    stream.seek(0)
    data = stream.read().decode("utf-8", "surrogateescape")
    stream.close()
    return data.replace("\r\n", "\n")


@contextlib.contextmanager
def _as_a_process(
    cwd: Path, env: dict[str, str]
) -> Iterator[tuple[io.BufferedRandom, io.BufferedRandom]]:
    """For the time of one command: ``env`` as the environment, ``cwd`` as the working
    directory, standard output and error as fresh files; all restored after."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams, saved_path, saved_modules = (sys.stdout, sys.stderr), list(sys.path), set(
        sys.modules
    )
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _text
    err = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _text
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    # What a new interpreter would add to its path from the environment it is given.
    sys.path[0:0] = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace")
    try:
        yield out, err
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(ValueError, OSError):
                stream.flush()
            stream.detach()
        sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            file = getattr(sys.modules.get(name), "__file__", None)
            if file and not os.path.realpath(file).startswith(_STABLE):
                del sys.modules[name]


GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity and no user configuration."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.strip()


def snapshot_repository(dest: Path) -> str:
    """This checkout's working tree (committed or not, without ignored files) as a fresh git
    repository at ``dest`` with one commit, whose hash is returned: what another project
    points pip's git URL or pre-commit's ``repo:`` at, and what this change would be."""
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for rel in sorted({name for name in listed.split("\0") if name}):
        source, target = REPO / rel, dest / rel
        if not source.is_symlink() and not source.exists():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "snapshot")
    return git(dest, "rev-parse", "HEAD")
