"""Request threads during reloads: ``python bench/reload.py TREE`` prints one JSON object.

Two threads call ``resolve_model`` in a loop while a ``watch`` of TREE is, first, left
alone, then reloaded ``--reloads`` times (one file edited, then polled until swapped).
Side by side: the p99 and worst latency of a call, and the cyclic collector's pauses
(``gc.callbacks``), with and without reloads; and the CPU time of a poll that finds
nothing changed.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flue_decl  # noqa: E402

THREADS = 2
BUCKET = 1e-5  # latencies are counted in 10 µs buckets: millions of calls, bounded memory


class Pauses:
    """Every collection's duration, by generation, while ``on``: wall time (what a request
    thread waits) and the collecting thread's CPU time (what the collection itself cost;
    on a virtual machine the wall time also holds the host's scheduling)."""

    def __init__(self) -> None:
        self.by_generation: dict[int, list[float]] = collections.defaultdict(list)
        self.cpu_full: list[float] = []
        self._start = self._start_cpu = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start, self._start_cpu = time.perf_counter(), time.thread_time()
        else:
            self.by_generation[info["generation"]].append(time.perf_counter() - self._start)
            if info["generation"] == 2:
                self.cpu_full.append(time.thread_time() - self._start_cpu)

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, Any]:
        full = self.by_generation.get(2, [])
        young = [p for g in (0, 1) for p in self.by_generation.get(g, [])]
        return {
            "full_collections": len(full),
            "full_max_ms": max(full, default=0.0) * 1e3,
            "full_max_cpu_ms": max(self.cpu_full, default=0.0) * 1e3,
            "young_max_ms": max(young, default=0.0) * 1e3,
        }


def hammer(live: Any, specs: list[str], during: Any) -> dict[str, Any]:
    """Resolve ``specs`` from THREADS threads while ``during()`` runs."""
    stop = threading.Event()
    counts: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def worker() -> None:
        mine: collections.Counter[int] = collections.Counter()
        clock = time.perf_counter
        while not stop.is_set():
            for spec in specs:
                start = clock()
                live.registry.resolve_model(spec)
                mine[int((clock() - start) / BUCKET)] += 1
        with lock:
            counts.update(mine)

    pauses = Pauses()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        during()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        pauses.stop()
    total, seen, p99 = sum(counts.values()), 0, 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= 0.99 * total:
            p99 = bucket
            break
    return {
        "calls": total,
        "p99_us": (p99 + 1) * BUCKET * 1e6,
        "max_ms": (max(counts) + 1) * BUCKET * 1e3,
        **pauses.summary(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tree")
    parser.add_argument("--reloads", type=int, default=3)
    parser.add_argument("--quiet-seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    tree = Path(args.tree)
    # File names as strings, and only those edited: a list of 5,000 Path objects (each with
    # its list of parts) would put 10,000 objects of the bench's own in every collection.
    count = sum(1 for _ in tree.glob("*.yaml"))
    files = sorted(str(p) for p in tree.glob("*.yaml"))[: max(args.reloads, 1)]
    live = flue_decl.watch(str(tree), env={}, interval=3600, import_handlers=False)
    # The bench tree's providers (bench/generate.py): p0, p1, ... with ten models each.
    specs = [f"p{i}/model-{i % 10}:{8 * (i % 10 + 1)}b" for i in range(min(count, 50))]

    start = time.process_time()
    for _ in range(10):
        live.poll_once()
    unchanged_poll_ms = (time.process_time() - start) / 10 * 1e3

    quiet = hammer(live, specs, lambda: time.sleep(args.quiet_seconds))
    reload_seconds: list[float] = []

    def reloads() -> None:
        for k in range(args.reloads):
            edited = Path(files[k % len(files)])
            edited.write_text(edited.read_text() + f"\n# reload {k}\n")
            generation, start = live.snapshot().generation, time.perf_counter()
            while live.snapshot().generation == generation:
                live.poll_once()
                if not live.snapshot().last_reload_ok:
                    raise SystemExit(f"reload failed: {live.snapshot().last_error}")
            reload_seconds.append(time.perf_counter() - start)

    busy = hammer(live, specs, reloads)
    print(
        json.dumps(
            {
                "files": count,
                "tracked_objects": len(gc.get_objects()),
                "unchanged_poll_ms": unchanged_poll_ms,
                "reload_s": max(reload_seconds),
                "quiet": quiet,
                "reloads": busy,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
