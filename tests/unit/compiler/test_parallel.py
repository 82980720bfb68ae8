"""A compile spread over worker processes (``compile_paths(jobs=N)``) gives the answer of
one process: every diagnostic at its place, every document with its values and places,
the hashes, the entities and the calls. Compared on a tree that mixes generated provider
files with every fixture (errors, anchors, tags, dates, suppressions, duplicates), with
the thresholds lowered so that every file and entity may land in a worker, and again with
a budget that runs out in the middle of the tree.

Compiles are run in a fresh interpreter each: a worker is forked only from a process with
no other thread (``_spread.usable``), and a test process may have some.
"""

from __future__ import annotations

import _thread
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate
from flue_decl.compiler import _spread

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"


def summary(tree: str, jobs: str, budget: str = "", held: str = "") -> dict[str, Any]:
    """Everything a compile of ``tree`` gives, in plain values (run in the child)."""
    from flue_decl.compiler import _budget, _parallel, compile_paths

    _parallel.MIN_BYTES = _parallel.MIN_ENTITIES = 1  # every file and entity may be shared
    if budget:  # runs out partway: the refusals must land where they would
        _budget.PER_INPUT_BYTE, _budget.ALLOWANCE = 0, int(budget)
    if held:  # a share that finds more: the tree's findings found again in one process
        _parallel.MAX_HELD = int(held)
    seen = {"answers": 0, "taken": 0, "again": 0}
    spread = _spread.spread
    taken, parse_text = _parallel._taken, _parallel.parse_text  # type: ignore[attr-defined]

    def counted_spread(parts: Any, own: Any) -> Any:
        mine, answers = spread(parts, own)
        seen["answers"] += sum(answer is not None for answer in answers)
        return mine, answers

    def counted_taken(source: Any, blob: Any, *rest: Any) -> Any:
        seen["taken"] += blob is not None
        return taken(source, blob, *rest)

    def counted_parse_text(*args: Any) -> Any:
        seen["again"] += 1  # a worker's file the budget could not pay at its turn
        return parse_text(*args)

    # Counted where they are called (in the parent): the workers' answers used.
    patch = pytest.MonkeyPatch()  # in a process of its own: never undone
    patch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))  # 3 workers on 2 CPUs
    patch.setattr(_spread, "spread", counted_spread)
    patch.setattr(_parallel, "_taken", counted_taken)
    patch.setattr(_parallel, "parse_text", counted_parse_text)
    compiled = compile_paths(tree, jobs=int(jobs))
    documents = []
    for doc in compiled.documents:
        paths = list(_paths(doc.data, ()))
        documents.append(
            [
                doc.file,
                doc.layer,
                doc.index,
                repr(doc.start),
                repr(doc.data),
                [repr((p, doc.place(p), doc.key_place(p))) for p in paths],
                sorted(map(repr, doc.typed_scalars.items())),
            ]
        )
    return {
        "diagnostics": [repr(d) for d in compiled.diagnostics],
        "hashes": compiled.hashes,
        "documents": documents,
        "entities": [repr((e.kind, e.key, e.data, dict(e.removed))) for e in compiled.entities],
        "valid": [e.key for e in compiled.valid],
        "calls": [repr(call) for call in compiled.calls],
        "seen": seen,
    }


def _paths(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*path, i))


def _compiled(
    tree: Path, jobs: int, budget: int | None = None, held: int | None = None
) -> dict[str, Any]:
    code = (
        "import json, sys; from tests.unit.compiler.test_parallel import summary; "
        "print(json.dumps(summary(*sys.argv[1:])))"
    )
    args = [sys.executable, "-c", code, str(tree), str(jobs), str(budget or ""), str(held or "")]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    seen = result.pop("seen")
    if jobs > 1:  # the workers' answers were used, for files and for entities
        assert seen["answers"] == 2 * (jobs - 1), seen
        assert seen["taken"] > 10, seen
    else:
        assert seen == {"answers": 0, "taken": 0, "again": 0}
    result["again"] = seen["again"]
    return result


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated files with every fixture's YAML files between them (so some land in each
    worker's run), a file with a date and one with a suppression."""
    tree = generate(tmp_path_factory.mktemp("mixed") / "providers.d", 60)
    fixtures = sorted(p for p in FIXTURES.rglob("*.y*ml") if p.is_file() and not p.is_symlink())
    for i, path in enumerate(fixtures):
        shutil.copyfile(path, tree / f"{(i * 7) % 60:05d}-{i}-{path.name}")
    (tree / "00030-dated.yaml").write_text(
        "kind: Provider\nid: dated\napi: openai-completions\nbaseUrl: https://d.example\n"
        "released: 2024-01-02\nmodels: {m: {}}\n"
    )
    (tree / "00045-suppressed.yaml").write_text(
        "kind: Provider  # flue-decl: ignore[unknown-key]\nid: quiet\napi: openai-completions\n"
        "baseUrl: http://quiet.example\napiKey: k\nextra: 1  # flue-decl: ignore[unknown-key]\n"
        "models: {m: {}}\n"
    )
    return tree


@pytest.mark.parametrize("jobs", [2, 3])
def test_workers_give_the_answer_of_one_process(mixed: Path, jobs: int) -> None:
    alone = _compiled(mixed, 1)
    assert len(alone["documents"]) > 100
    assert len(alone["diagnostics"]) > 20
    assert _compiled(mixed, jobs) == alone  # "again": none in either


def test_a_budget_that_runs_out_partway_refuses_the_same_files(mixed: Path) -> None:
    full = _compiled(mixed, 1)
    charged = 2_000_000  # about half the tree's charge
    alone = _compiled(mixed, 1, charged)
    refused = [d for d in alone["diagnostics"] if "yaml-too-large" in d]
    assert refused
    assert len(alone["documents"]) < len(full["documents"])
    spread = _compiled(mixed, 2, charged)
    assert spread.pop("again") > 0  # read again where a worker's file could not be paid
    alone.pop("again")
    assert spread == alone


def test_a_share_that_finds_too_much_is_found_again_in_one_process(mixed: Path) -> None:
    alone = _compiled(mixed, 1)
    assert _compiled(mixed, 2, held=3) == alone


def test_a_worker_that_fails_leaves_its_part_to_the_parent() -> None:
    def killed() -> bytes:
        os.kill(os.getpid(), signal.SIGKILL)
        return b""

    def raising() -> bytes:
        raise MemoryError

    big = b"x" * (5 << 20)  # past a pipe's buffer: read while the worker writes
    own, answers = _spread.spread([lambda: big, killed, raising, lambda: b""], lambda: "mine")
    assert own == "mine"
    assert answers == [big, None, None, b""]


def test_a_system_out_of_processes_leaves_every_part_to_the_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fork, pipe = os.fork, os.pipe
    forks = []

    def refused() -> int:
        forks.append(1)
        if len(forks) == 2:
            raise BlockingIOError(11, "Resource temporarily unavailable")  # EAGAIN
        return fork()

    monkeypatch.setattr(os, "fork", refused)
    own, answers = _spread.spread([lambda: b"a", lambda: b"b", lambda: b"c"], lambda: "mine")
    assert (own, answers) == ("mine", [b"a", None, b"c"])
    monkeypatch.setattr(os, "fork", fork)

    def no_descriptors() -> tuple[int, int]:
        raise OSError(24, "Too many open files")  # EMFILE

    monkeypatch.setattr(os, "pipe", no_descriptors)
    assert _spread.spread([lambda: b"a"], lambda: "mine") == ("mine", [None])
    monkeypatch.setattr(os, "pipe", pipe)


def test_a_stuck_worker_is_killed_and_its_part_done_by_the_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forked = []
    fork = os.fork

    def recorded() -> int:
        forked.append(pid := fork())
        return pid

    monkeypatch.setattr(os, "fork", recorded)
    monkeypatch.setattr(_spread, "MIN_WAIT", 0.5)
    started = time.monotonic()
    def stuck() -> bytes:
        time.sleep(600)
        return b"late"

    own, answers = _spread.spread([stuck, lambda: b"b" * (1 << 20)], lambda: 1)
    assert (own, answers) == (1, [None, b"b" * (1 << 20)])  # the other read after the wait
    assert time.monotonic() - started < 30
    for pid in forked:
        if pid:
            with pytest.raises(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # killed and reaped


_ORPHAN = """
import os, sys, time
from flue_decl.compiler import _spread

def part():
    with open(sys.argv[1], "w") as out:
        out.write(str(os.getpid()))
    while True:  # a step of work, again and again
        _spread.stop_if_abandoned()
        time.sleep(0.01)

def own():
    time.sleep(0.3)
    os._exit(0)  # the parent dies without reading its worker's answer

_spread.spread([part], own)
"""


def test_a_worker_whose_parent_is_gone_stops(tmp_path: Path) -> None:
    written = tmp_path / "worker.pid"
    subprocess.run(
        [sys.executable, "-c", _ORPHAN, str(written)], cwd=ROOT, check=True, timeout=60
    )
    pid = int(written.read_text())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.05)
    assert not _running(pid)


def _running(pid: int) -> bool:
    """Whether ``pid`` runs: not gone, and not a zombie nobody reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_no_fork_beside_a_thread_python_does_not_list() -> None:
    started, stop = threading.Event(), threading.Event()

    def waiting() -> None:
        started.set()
        stop.wait()

    _thread.start_new_thread(waiting, ())
    try:
        started.wait()
        assert threading.active_count() == 1  # threading does not see it
        assert _spread.usable(4) == 1
    finally:
        stop.set()
        deadline = time.monotonic() + 10  # until it has ended: later tests may fork
        while len(os.listdir("/proc/self/task")) > 1 and time.monotonic() < deadline:
            time.sleep(0.01)


def test_no_more_processes_than_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_spread, "_alone", lambda: True)  # whatever else this process runs
    assert _spread.usable(10_000) == len(os.sched_getaffinity(0))
    assert _spread.usable(1) == 1


def test_no_worker_is_left_when_the_parent_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = []
    fork = os.fork

    def recorded() -> int:
        pid = fork()
        forked.append(pid)
        return pid

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fork", recorded)
    with pytest.raises(KeyboardInterrupt):
        _spread.spread([lambda: b"a" * (1 << 20)], interrupted)
    (pid,) = forked
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # killed and reaped: not even a zombie left


def test_no_fork_beside_another_thread() -> None:
    started, stop = threading.Event(), threading.Event()

    def waiting() -> None:
        started.set()
        stop.wait()

    other = threading.Thread(target=waiting)
    other.start()
    try:
        started.wait()
        assert _spread.usable(4) == 1
    finally:
        stop.set()
        other.join()
    assert _spread.usable(1) == 1
