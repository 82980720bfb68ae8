"""Resolution from many threads: only ResolveError, a memo bounded in entries and in the
size of its specifiers, and nothing older than a register call served once it returned."""

from __future__ import annotations

import threading

import pytest

from flue_decl import Registry, ResolveError
from flue_decl._domain import Call, Op
from flue_decl.runtime._memo import Memo


def test_many_threads_many_specifiers_only_resolve_errors() -> None:
    registry = Registry(env={})
    registry.register_provider("p", {"api": "openai-completions", "baseUrl": "https://p.example"})
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def work(n: int) -> None:
        start.wait()
        try:
            for i in range(3000):
                spec = f"p/m{(i * 7 + n) % 2500}" if i % 5 else f"nope/{i}"
                try:
                    assert registry.resolve_model(spec).id == spec[2:]
                except ResolveError:
                    assert spec.startswith("nope/")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(registry._memo) <= 1024


def test_the_memo_is_bounded_by_the_size_of_its_keys_too() -> None:
    memo: Memo[int] = Memo(entries=1000, chars=10_000)
    for i in range(100):
        memo.put(f"{i:04d}" + "x" * 996, i, memo.version)
    assert len(memo) == 10
    assert memo.get(f"{99:04d}" + "x" * 996) == 99
    memo.put("y" * 20_000, 1, memo.version)  # alone over the bound: not kept
    assert memo.get("y" * 20_000) is None


def test_a_model_from_before_a_change_is_never_stored_after_it() -> None:
    memo: Memo[str] = Memo()
    version = memo.version  # a reader starts from the old state ...
    memo.invalidate()  # ... a registration replaces it and returns ...
    memo.put("p/m", "stale", version)  # ... then the reader finishes
    assert memo.get("p/m") is None


@pytest.mark.parametrize("packed", [False, True])
def test_a_replaced_registration_is_never_served_after_the_call_returns(packed: bool) -> None:
    """Given in code (copied) or decoded from an artifact (packed as JSON text, decoded on
    a read and the decode remembered: ``runtime._stored``), and read by ``resolve_model``
    and by what reads the payload itself (``api_key``)."""
    registry = Registry(env={})
    stop = threading.Event()

    def register(n: int) -> None:
        payload = {"api": "openai-completions", "baseUrl": f"https://x/{n}", "apiKey": f"k{n}"}
        if packed:
            registry.apply(Call(Op.REGISTER_PROVIDER, "p", payload, {}), copy=False)
        else:
            registry.register_provider("p", payload)

    def readers() -> None:
        while not stop.is_set():
            registry.resolve_model("p/m")
            registry.api_key("p/m")

    register(0)
    threads = [threading.Thread(target=readers) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for n in range(1, 300):
            register(n)
            assert registry.resolve_model("p/m").base_url == f"https://x/{n}"
            assert registry.api_key("p/m") == f"k{n}"
            shown = registry.registration("p") or {}
            assert (shown["baseUrl"], shown["apiKey"]) == (f"https://x/{n}", "***")
    finally:
        stop.set()
        for t in threads:
            t.join()
