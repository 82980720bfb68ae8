"""The polling child of an isolated watch (flue_decl._poller) under faults: a secrets
directory named by the environment, a hung or interrupted child, a stop() while a child
starts."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import flue_decl._load
import flue_decl._poller
from flue_decl import Watch, watch
from tests.unit.runtime.test_watch import provider, settle
from tests.unit.runtime.test_watch_faults import two_providers

SECRET_PROVIDER = (
    "kind: Provider\nid: a\napi: openai-completions\nbaseUrl: https://a.example/v1\n"
    "apiKey: '{{ secret.a_key }}'\n"
)


def _tree(live: Any) -> flue_decl._load.Tree:
    source = live._source
    assert isinstance(source, flue_decl._load.Tree)
    return source


def _watched(tmp_path: Path) -> tuple[Path, Watch, flue_decl._load.Tree]:
    """Two providers under a watch polled by hand: the tree, the watch, its source."""
    tree = two_providers(tmp_path)
    live = watch(str(tree), env={}, interval=3600)
    return tree, live, _tree(live)


def test_a_secrets_directory_named_by_the_environment_is_the_childs_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child's environment is bare: it must poll the directory this process found.
    tree, secrets = tmp_path / "providers.d", tmp_path / "secrets"
    tree.mkdir()
    secrets.mkdir()
    (tree / "a.yaml").write_text(SECRET_PROVIDER)
    (secrets / "a_key").write_text("k-1\n")
    monkeypatch.setenv("FLUE_DECL_SECRETS_DIR", str(secrets))
    live = watch(str(tree), env={}, interval=3600)
    assert not settle(live, 4)  # unchanged: no reload, every poll (but the first) the child's
    assert live.generation == 1
    (secrets / "a_key").write_text("k-2\n")
    assert settle(live)
    assert live.registry.api_key("a/m") == "k-2"
    assert not settle(live, 4)  # and no reload after it, for nothing
    assert live.generation == 2
    live.stop()


def test_a_hung_child_is_killed_and_the_poll_made_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flue_decl._poller, "POLL_TIMEOUT", 1.0)
    tree, live, source = _watched(tmp_path)
    assert not live.poll_once()
    child = source._poller._process
    assert child is not None
    os.kill(child.pid, signal.SIGSTOP)  # an NFS stat that never returns, say
    (tree / "b.yaml").write_text(provider(2, "b"))
    started = time.monotonic()
    assert not live.poll_once()  # answered here, after the timeout
    assert time.monotonic() - started < 10
    assert child.poll() is not None  # killed (and reaped)
    assert live.poll_once()  # the next poll's child sees the same change: stable, loaded
    assert live.registry.resolve_model("b/m").max_tokens == 2
    live.stop()


def test_a_poll_interrupted_between_question_and_answer_leaves_no_answer_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree, live, source = _watched(tmp_path)
    assert not live.poll_once()
    real = flue_decl._poller._read_line

    def interrupted(*args: Any) -> bytes:
        monkeypatch.setattr(flue_decl._poller, "_read_line", real)
        raise KeyboardInterrupt  # a signal handler raising in the polling thread

    monkeypatch.setattr(flue_decl._poller, "_read_line", interrupted)
    with pytest.raises(KeyboardInterrupt):
        live.poll_once()
    (tree / "a.yaml").write_text(provider(3, "a"))
    # The answer left unread went with its child: this poll's answer is this poll's.
    assert source.fingerprint() == source.digest_of(source.scan())  # type: ignore[arg-type]
    live.stop()


def test_stop_while_the_child_starts_leaves_no_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, live, source = _watched(tmp_path)
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def slow_popen(command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        command = [*command[:-2], "import time; time.sleep(1); " + command[-2], command[-1]]
        process = real_popen(command, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(subprocess, "Popen", slow_popen)
    source._polls = 1  # the next fingerprint asks the child
    polling = threading.Thread(target=source.fingerprint)
    polling.start()
    time.sleep(0.3)  # the child is starting
    live.stop()
    polling.join(10)
    assert not polling.is_alive()
    assert len(started) == 1
    assert started[0].poll() is not None  # ended, not left behind
    assert source._poller._process is None
