"""watch(): hot reload with last-known-good, on real files, driven poll by poll."""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from flue_decl import Call, ConfigError, Snapshot, Watch, watch
from flue_decl._load import Tree
from flue_decl._settings import settings_for
from tests.helpers import examples

SOAK_SWAPS = int(os.environ.get("FLUE_DECL_SOAK_SWAPS", examples(1000)))


def provider(version: int, provider_id: str = "p") -> str:
    # contextWindow and maxTokens both carry the version: a reader can tell a mix.
    return (
        f"kind: Provider\nid: {provider_id}\napi: openai-completions\n"
        f"baseUrl: https://{provider_id}.example/v1\n"
        f"contextWindow: {1000 + version}\nmaxTokens: {version}\n"
    )


def settle(live: object, polls: int = 2) -> bool:
    swapped = False
    for _ in range(polls):
        swapped = live.poll_once() or swapped  # type: ignore[attr-defined]
    return swapped


def test_edits_are_picked_up_after_they_are_stable(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    live = watch([str(tmp_path)], env={})
    assert (live.generation, live.registry.resolve_model("p/m").max_tokens) == (1, 1)
    (tmp_path / "a.yaml").write_text(provider(2))
    assert live.poll_once() is False  # seen once: not yet stable
    assert live.poll_once() is True
    assert (live.generation, live.registry.resolve_model("p/m").max_tokens) == (2, 2)
    assert live.poll_once() is False  # nothing changed


def test_a_bad_tree_keeps_the_last_good_registry_and_the_next_good_one_is_served(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    reloads: list[Snapshot] = []
    live = watch([str(tmp_path)], env={}, on_reload=reloads.append)
    (tmp_path / "a.yaml").write_text(provider(2).replace("baseUrl", "baseURL"))
    settle(live)
    assert live.last_reload_ok is False
    assert live.last_error is not None
    (diag,) = [d for d in live.last_error.diagnostics if d.code == "unknown-key"]
    assert (Path(diag.file or "").name, diag.line) == ("a.yaml", 4)
    assert live.registry.resolve_model("p/m").max_tokens == 1  # still serving
    (tmp_path / "a.yaml").write_text(provider(3))
    settle(live)
    after = live.snapshot()
    assert (after.last_reload_ok, after.last_error, after.generation) == (True, None, 2)
    assert live.registry.resolve_model("p/m").max_tokens == 3
    assert [s.last_reload_ok for s in reloads] == [False, True]


def test_rename_based_saves(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    live = watch([str(tmp_path)], env={})
    (tmp_path / ".a.yaml.swp").write_text(provider(2))  # an editor's temp file: skipped
    os.replace(tmp_path / ".a.yaml.swp", tmp_path / "a.yaml")
    settle(live)
    assert live.registry.resolve_model("p/m").max_tokens == 2


def _configmap(root: Path, version: int, files: dict[str, str]) -> None:
    """Kubernetes' layout: ..<ts>/ holds the files, ..data -> ..<ts>, name -> ..data/name."""
    data = root / f"..2024_{version}"
    data.mkdir()
    for name, text in files.items():
        (data / name).write_text(text)
        if not (root / name).is_symlink():
            (root / name).symlink_to(f"..data/{name}")
    tmp_link = root / "..data_tmp"
    tmp_link.symlink_to(data.name)
    os.replace(tmp_link, root / "..data")  # the atomic swap kubelet does


def test_configmap_data_symlink_swap(tmp_path: Path) -> None:
    _configmap(tmp_path, 1, {"a.yaml": provider(1)})
    live = watch([str(tmp_path)], env={})
    _configmap(tmp_path, 2, {"a.yaml": provider(2)})
    settle(live)
    assert live.registry.resolve_model("p/m").max_tokens == 2


def test_slow_writer_is_never_served_half_written(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    live = watch([str(tmp_path)], env={})
    full = provider(2)
    with open(tmp_path / "a.yaml", "w") as fh:
        fh.write(full[: len(full) // 2])
        fh.flush()
        assert live.poll_once() is False
        fh.write(full[len(full) // 2 :])
        fh.flush()
        assert live.poll_once() is False  # changed again: still not stable
    assert live.generation == 1
    assert live.poll_once() is True
    assert live.registry.resolve_model("p/m").max_tokens == 2


def test_deleted_directory_and_empty_tree(tmp_path: Path) -> None:
    tree = tmp_path / "providers.d"
    tree.mkdir()
    (tree / "a.yaml").write_text(provider(1))
    live = watch([str(tree)], env={})
    shutil.rmtree(tree)
    settle(live)
    assert live.last_reload_ok is False
    assert live.registry.resolve_model("p/m").max_tokens == 1
    tree.mkdir()  # back, but empty
    settle(live)
    assert live.last_reload_ok is False
    assert live.last_error is not None
    assert [d.code for d in live.last_error.diagnostics] == ["no-documents"]
    (tree / "a.yaml").write_text(provider(5))
    settle(live)
    assert (live.last_reload_ok, live.registry.resolve_model("p/m").max_tokens) == (True, 5)


def test_allow_empty_swaps_to_an_empty_registry(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    live = watch([str(tmp_path)], env={}, allow_empty=True)
    (tmp_path / "a.yaml").unlink()
    settle(live)
    assert live.last_reload_ok is True
    assert live.registry.registered_providers() == ()


def test_a_bad_first_tree_does_not_start(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Nope\n")
    with pytest.raises(ConfigError):
        watch([str(tmp_path)], env={})


def test_background_thread_picks_up_changes(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    with watch([str(tmp_path)], interval=0.05, env={}) as live:
        (tmp_path / "a.yaml").write_text(provider(7))
        deadline = time.monotonic() + 20  # a hang guard, not a speed assertion
        while live.generation < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert live.registry.resolve_model("p/m").max_tokens == 7


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "child-process"])
def test_soak_readers_never_see_a_mix_and_every_good_version_is_served(
    tmp_path: Path, isolated: bool
) -> None:
    """8 reader threads resolve while the tree is swapped SOAK_SWAPS times: good versions
    by ConfigMap swap, bad ones (invalid YAML, half-written files) in between. Reloads in
    a child process (the default) take ~0.2 s each to start it: a twentieth of the swaps."""
    _configmap(tmp_path, 0, {"a.yaml": provider(0, "a"), "b.yaml": provider(0, "b")})
    live = watch([str(tmp_path)], env={}, isolated_reloads=isolated)
    swaps = SOAK_SWAPS // 20 if isolated else SOAK_SWAPS
    stop = threading.Event()
    errors: list[str] = []
    seen: set[int] = set()

    def reader() -> None:
        while not stop.is_set():
            snap = live.snapshot()
            try:
                a = snap.registry.resolve_model("a/m")
                b = snap.registry.resolve_model("b/m")
            except Exception as exc:
                errors.append(repr(exc))
                return
            if not (
                a.context_window == 1000 + a.max_tokens == b.context_window
                and a.max_tokens == b.max_tokens
            ):
                errors.append(f"mixed generation: a={a.max_tokens} b={b.max_tokens}")
                return
            seen.add(a.max_tokens)
            time.sleep(0.0002)  # keep reading, but let the writer thread have the GIL

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    rng = random.Random(20261125)
    good = []
    try:
        for version in range(1, swaps + 1):
            kind = rng.random()
            if kind < 0.6:
                _configmap(
                    tmp_path,
                    version,
                    {"a.yaml": provider(version, "a"), "b.yaml": provider(version, "b")},
                )
                good.append(version)
                settle(live)
                assert live.registry.resolve_model("a/m").max_tokens == version
            elif kind < 0.8:
                _configmap(
                    tmp_path,
                    version,
                    {"a.yaml": "kind: [unclosed\n", "b.yaml": provider(version, "b")},
                )
                settle(live)
                assert live.last_reload_ok is False
            else:  # a half-written file, polled mid-write, then completed
                text = provider(version, "a")
                target = tmp_path / f"..2024_{version - 1}" / "a.yaml"
                if not target.exists():
                    continue
                target.write_text(text[: len(text) // 3])
                live.poll_once()
                target.write_text(text.replace(f"maxTokens: {version}", "maxTokens: oops"))
                settle(live)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert good, "the soak never swapped a good version in"
    assert live.registry.resolve_model("a/m").max_tokens in good


class _Exploding(Tree):
    """A tree whose next load raises ``planted`` (as a handler's import or a full memory
    would), once."""

    planted: BaseException | None = None

    def calls(self) -> Sequence[Call]:
        planted, self.planted = self.planted, None
        if planted is not None:
            raise planted
        return super().calls()


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20  # a hang guard, not a speed assertion
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.parametrize("planted", [SystemExit(0), MemoryError(), RuntimeError("boom")], ids=type)
def test_no_failure_of_a_reload_stops_the_watcher(tmp_path: Path, planted: BaseException) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    source = _Exploding(settings_for(None, paths=(str(tmp_path),)))
    with Watch(source, interval=0.05, env={}) as live:
        source.planted = planted
        (tmp_path / "a.yaml").write_text(provider(2))
        _wait_for(lambda: live.last_error is not None)
        assert live.last_reload_ok is False
        assert live.last_error is not None
        assert type(planted).__name__ in str(live.last_error)
        assert live.registry.resolve_model("p/m").max_tokens == 1  # still serving
        (tmp_path / "a.yaml").write_text(provider(3))
        _wait_for(lambda: live.generation >= 2)
        assert live.last_reload_ok is True
        assert live.registry.resolve_model("p/m").max_tokens == 3


def test_a_handler_that_exits_at_reload_is_an_error_and_the_watcher_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "exiting_handler.py").write_text("import sys\nsys.exit(0)\n")
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.yaml").write_text(provider(1))
    with watch([str(tree)], interval=0.05, env={}, handler_modules=["exiting_handler"]) as live:
        (tree / "b.yaml").write_text("kind: ApiProvider\napi: x\nhandler: exiting_handler:X\n")
        _wait_for(lambda: live.last_error is not None)
        assert [d.code for d in live.last_error.diagnostics] == ["handler-import"]  # type: ignore[union-attr]
        assert "SystemExit" in str(live.last_error)
        (tree / "b.yaml").unlink()
        (tree / "a.yaml").write_text(provider(4))
        _wait_for(lambda: live.generation >= 2)
        assert live.registry.resolve_model("p/m").max_tokens == 4


def test_a_huge_file_is_refused_without_being_hashed_whole(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))
    live = watch([str(tmp_path)], env={}, max_file_bytes=10_000)
    with (tmp_path / "z.yaml").open("wb") as fh:
        fh.truncate(2 * 1024**3)  # 2 GiB, sparse: reading it whole would take seconds
    settle(live)
    assert live.last_reload_ok is False
    assert [d.code for d in live.last_error.diagnostics] == ["file-too-large"]  # type: ignore[union-attr]
    assert live.registry.resolve_model("p/m").max_tokens == 1


def test_a_tree_moved_away_and_back_is_serving_ok_again(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.yaml").write_text(provider(1))
    live = watch([str(tree)], env={})
    tree.rename(tmp_path / "away")
    settle(live)
    assert live.last_reload_ok is False
    (tmp_path / "away").rename(tree)
    settle(live)
    assert live.last_reload_ok is True
    assert live.last_error is None
    assert live.generation == 1  # nothing changed: the same registry, said good again


def test_a_callback_that_exits_does_not_stop_the_watcher(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(provider(1))

    def exits(snapshot: Snapshot) -> None:
        raise SystemExit(1)

    with watch([str(tmp_path)], env={}, interval=0.05, on_reload=exits) as live:
        for version in (2, 3):
            (tmp_path / "a.yaml").write_text(provider(version))
            _wait_for(lambda v=version: live.generation >= v)  # type: ignore[misc]
        assert live.registry.resolve_model("p/m").max_tokens == 3
