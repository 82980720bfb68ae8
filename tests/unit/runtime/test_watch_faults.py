"""watch() under faults: an entry that stops being a regular file, a secret rewritten in
place, a poll that costs a stat per file; the last good registry keeps serving and the
fault is reported by name."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

import flue_decl._discover
import flue_decl._load
from flue_decl import Watch, watch
from flue_decl._settings import settings_for
from tests.unit.runtime.test_watch import provider, settle


def two_providers(tmp_path: Path) -> Path:
    tree = tmp_path / "providers.d"
    tree.mkdir()
    (tree / "a.yaml").write_text(provider(1, "a"))
    (tree / "b.yaml").write_text(provider(1, "b"))
    return tree


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "no-such-file.yaml")


def _loop(path: Path) -> None:
    path.symlink_to(path)


@pytest.mark.parametrize(
    "turn",
    [os.mkdir, os.mkfifo, _dangling, _loop],
    ids=["directory", "fifo", "dangling-link", "link-loop"],
)
def test_a_provider_is_never_dropped_in_silence(tmp_path: Path, turn: object) -> None:
    tree = two_providers(tmp_path)
    live = watch(str(tree), env={})
    (tree / "b.yaml").unlink()
    turn(tree / "b.yaml")  # type: ignore[operator]
    settle(live, 3)
    assert live.last_reload_ok is False
    assert live.last_error is not None
    assert [(d.code, Path(d.file or "").name) for d in live.last_error.diagnostics] == [
        ("skipped-file", "b.yaml")
    ]
    assert live.generation == 1
    assert live.registry.resolve_model("b/m").max_tokens == 1  # still served


def test_a_kubernetes_swap_caught_half_way_is_retried(tmp_path: Path) -> None:
    mount = tmp_path / "mount"
    (mount / "..2024_01").mkdir(parents=True)
    (mount / "..2024_01" / "a.yaml").write_text(provider(1, "a"))
    (mount / "..data").symlink_to("..2024_01")
    (mount / "a.yaml").symlink_to("..data/a.yaml")
    live = watch(str(mount), env={})
    # The kubelet swaps ..data to a new directory first, then fixes the links: one poll
    # may see a link to nothing.
    (mount / "..2024_02").mkdir()
    (mount / "..2024_02" / "b.yaml").write_text(provider(2, "b"))
    (mount / "..data_tmp").symlink_to("..2024_02")
    os.replace(mount / "..data_tmp", mount / "..data")
    assert live.poll_once() is False  # a.yaml dangles now: not stable, nothing reported
    assert live.last_reload_ok is True
    (mount / "a.yaml").unlink()
    (mount / "b.yaml").symlink_to("..data/b.yaml")
    settle(live)
    assert live.last_reload_ok is True
    assert live.registry.resolve_model("b/m").max_tokens == 2


def reading_a_secret(tmp_path: Path) -> tuple[Watch, Path]:
    """A watched tree whose key is the secret file ``a_key`` (``k-1``), and that file."""
    tree = tmp_path / "providers.d"
    secrets = tmp_path / "secrets"
    tree.mkdir()
    secrets.mkdir()
    (tree / "a.yaml").write_text(
        "kind: Provider\nid: a\napi: openai-completions\nbaseUrl: https://a.example/v1\n"
        "apiKey: '{{ secret.a_key }}'\n"
    )
    (secrets / "a_key").write_text("k-1\n")
    return watch(str(tree), env={}, secrets_dir=secrets), secrets / "a_key"


def test_a_secret_rewritten_in_place_is_not_served_half_written(tmp_path: Path) -> None:
    live, secret = reading_a_secret(tmp_path)
    secret.write_text("")  # a slow writer truncated it ...
    settle(live, 3)
    assert live.last_reload_ok is False  # ... an empty key is not served
    assert live.last_error is not None
    assert "`a_key` in" in live.last_error.diagnostics[0].message
    assert live.registry.api_key("a/m") == "k-1"
    secret.write_text("k-2\n")  # ... and wrote the new key
    settle(live)
    assert live.last_reload_ok is True
    assert live.registry.api_key("a/m") == "k-2"


def test_a_tree_reading_a_secret_file_does_not_reload_for_nothing(tmp_path: Path) -> None:
    live, _ = reading_a_secret(tmp_path)
    settle(live, 5)
    assert live.generation == 1


def test_an_unchanged_poll_reads_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In this process (an isolated watch's polls run this very code in its polling child).
    tree = two_providers(tmp_path)
    live = watch(str(tree), env={}, isolated_reloads=False)
    reads: list[str] = []
    real = flue_decl._files.read_capped

    def counting(path: str, limit: int) -> bytes:
        reads.append(path)
        return real(path, limit)

    monkeypatch.setattr(flue_decl._load, "read_capped", counting)
    settle(live, 10)
    assert reads == []
    # An edit in place that keeps the size and the modification time is still seen.
    before = os.stat(tree / "a.yaml")
    (tree / "a.yaml").write_text(provider(2, "a").replace("1002", "1003"))
    os.utime(tree / "a.yaml", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(tree / "a.yaml").st_size == before.st_size
    settle(live)
    assert live.registry.resolve_model("a/m").max_tokens == 2
    assert [Path(p).name for p in reads] == ["a.yaml"]


class _SlowTree(flue_decl._load.Tree):
    """A tree whose loads take ``delay`` seconds once ``slow`` is set."""

    slow = False
    delay = 3.0

    def calls(self) -> Sequence[flue_decl.Call]:
        if self.slow:
            time.sleep(self.delay)
        return super().calls()


def test_stop_during_a_long_reload_returns_soon_and_nothing_is_published_after(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    source = _SlowTree(settings_for(None, paths=(str(tmp_path),)))
    seen: list[int] = []
    live = Watch(source, interval=0.1, env={}, on_reload=lambda s: seen.append(s.generation))
    live.start()
    source.slow = True
    (tmp_path / "a.yaml").write_text(provider(2))
    time.sleep(0.5)  # the thread is in the middle of the slow load now
    started = time.monotonic()
    live.stop()
    assert time.monotonic() - started < 0.1 + 1.5
    published = list(seen)
    time.sleep(source.delay + 0.5)  # the stopped thread finished its load meanwhile
    assert seen == published
    assert live.generation == 1
    # Started again, it polls again.
    source.slow = False
    live.start()
    deadline = time.monotonic() + 10
    while live.generation == 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    live.stop()
    assert live.registry.resolve_model("p/m").max_tokens == 2


def test_on_reload_may_stop_the_watch(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    live = watch(str(tmp_path), env={}, interval=0.05)
    live._on_reload = lambda _snapshot: live.stop()
    live.start()
    (tmp_path / "a.yaml").write_text(provider(2))
    deadline = time.monotonic() + 10
    while live.generation == 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.generation == 2
    live.stop()


def test_a_slow_or_waiting_on_reload_does_not_hold_stop_up(tmp_path: Path) -> None:
    import threading

    (tmp_path / "a.yaml").write_text(provider(1))
    stopping = threading.Event()
    entered = threading.Event()

    def on_reload(_snapshot: object) -> None:
        entered.set()
        stopping.wait(8)  # e.g. handing the snapshot to a loop that is shutting down

    live = watch(str(tmp_path), env={}, interval=0.05, on_reload=on_reload)
    live.start()
    (tmp_path / "a.yaml").write_text(provider(2))
    assert entered.wait(10)
    started = time.monotonic()
    live.stop()  # held the lock on_reload ran under: blocked the whole 8 s
    assert time.monotonic() - started < 0.05 + 1.5
    stopping.set()


def test_a_source_without_loaded_still_works(tmp_path: Path) -> None:
    # Source.loaded() came later: a Source written before it keeps working.
    class Legacy:
        def __init__(self) -> None:
            self.tree = flue_decl._load.Tree(settings_for(None, paths=(str(tmp_path),)))

        def fingerprint(self) -> object:
            return self.tree.fingerprint()

        def calls(self) -> Sequence[flue_decl.Call]:
            return self.tree.calls()

    (tmp_path / "a.yaml").write_text(provider(1))
    live = Watch(Legacy(), interval=3600, env={})  # type: ignore[arg-type]
    assert not live.poll_once()
    (tmp_path / "a.yaml").write_text(provider(2))
    settle(live)
    assert live.registry.resolve_model("p/m").max_tokens == 2


@pytest.mark.parametrize("owns", [False, True])
def test_a_registry_never_shares_the_calls_of_a_source(tmp_path: Path, owns: bool) -> None:
    """A source that keeps its calls (and might change them) gets a registry of copies; one
    that hands each load's calls over (``owns_calls``, as the isolated Tree does) gets its
    payloads packed as JSON text (``runtime._stored``): nothing the collector tracks, and
    no more shared with the source than a copy."""
    kept: list[flue_decl.Call] = []

    class Keeper:
        owns_calls = owns

        def __init__(self) -> None:
            self.tree = flue_decl._load.Tree(settings_for(None, paths=(str(tmp_path),)))

        def fingerprint(self) -> object:
            return self.tree.fingerprint()

        def calls(self) -> tuple[flue_decl.Call, ...]:
            calls = tuple(self.tree.calls())  # decoded once: kept and given are the same
            kept.extend(calls)
            return calls

    (tmp_path / "a.yaml").write_text(
        "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example/v1\n"
        "models:\n  m: {maxTokens: 1}\n"
    )
    live = Watch(Keeper(), interval=3600, env={})  # type: ignore[arg-type]
    models = next(c.payload["models"] for c in kept if c.target == "p")
    models["m"]["maxTokens"] = 99  # the source changes what it kept
    assert live.registry.resolve_model("p/m").max_tokens == 1
    stored = live.registry._providers._entries["p"]
    assert isinstance(stored, str if owns else dict)
    assert flue_decl._load.Tree(settings_for(None, paths=(str(tmp_path),))).owns_calls


def test_an_isolated_watch_polls_in_its_child_and_ends_it_at_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first poll this process neither lists nor stats the tree: each stat would
    give the GIL up and wait up to 5 ms for it in a busy service (issue 22)."""
    tree = two_providers(tmp_path)
    live = watch(str(tree), env={}, interval=0.05)
    source = live._source
    assert isinstance(source, flue_decl._load.Tree)
    here: list[str] = []
    real_scan = flue_decl._load.Tree.scan

    def scan(self: flue_decl._load.Tree) -> object:
        here.append("scan")
        return real_scan(self)

    monkeypatch.setattr(flue_decl._load.Tree, "scan", scan)
    with live:
        settle(live, 3)
        # An edit in place that keeps size and times is seen by the child's full check.
        before = os.stat(tree / "a.yaml")
        (tree / "a.yaml").write_text(provider(2, "a").replace("1002", "1003"))
        os.utime(tree / "a.yaml", ns=(before.st_atime_ns, before.st_mtime_ns))
        deadline = time.monotonic() + 20
        while live.generation == 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live.registry.resolve_model("a/m").max_tokens == 2
        child = source._poller._process
        assert child is not None
        assert child.poll() is None
    assert here == []  # every poll was the child's
    assert child.poll() is not None  # stop() ended it
    # Polled again after stop(): a new child, the same answer as a scan here.
    assert source.fingerprint() == source.digest_of(real_scan(source))  # type: ignore[arg-type]


def test_a_polling_child_that_dies_is_replaced_and_no_poll_is_lost(tmp_path: Path) -> None:
    tree = two_providers(tmp_path)
    live = watch(str(tree), env={}, interval=3600)
    source = live._source
    assert isinstance(source, flue_decl._load.Tree)
    assert not live.poll_once()
    first = source._poller._process
    assert first is not None
    first.kill()
    first.wait()
    (tree / "b.yaml").write_text(provider(2, "b"))
    settle(live)  # the poll that found it dead was made here; the next child answers
    assert live.registry.resolve_model("b/m").max_tokens == 2
    second = source._poller._process
    assert second is not None
    assert second is not first
    assert second.poll() is None
    live.stop()
    assert second.poll() is not None
