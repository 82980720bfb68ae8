"""flue-decl benchmark: every figure next to its baseline, measured in the same run.

    make bench                       # sizes 10, 100, 1000, 10000; writes BENCHMARKS.md
    python bench/run.py --smoke      # size 10, one run each: proves the benchmark runs

Fresh processes for everything a user starts cold (validate, compile, load_artifact,
import); medians over ``--repeat`` rounds, each running every command once in turn
(``interleaved``: a shared machine's noise lands on a command and its baselines alike);
peak memory from the child's own rusage, and its worker processes' (``--jobs``).
Baselines: check-jsonschema on the same documents (one per file: it reads single-document
YAML only), ajv-cli 5 on those files (node: compiled Ajv validators and js-yaml;
bench/node), the bare floor (PyYAML's C loader + jsonschema, bench/floor.py), the bare
libyaml event parse of the tree (bench/events.py), and the reference runtime's
resolveModel per call in node on the same registry calls.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import generate, split  # noqa: E402

NODE_DIR = ROOT / "tests" / "conformance" / "node"
BENCH_NODE = ROOT / "bench" / "node"  # ajv-cli and ajv-formats, pinned (npm ci)
AJV = BENCH_NODE / "node_modules" / "ajv-cli" / "dist" / "index.js"
CHUNK = 5000  # check-jsonschema files per command line
PY = sys.executable
PEAK = (
    "import resource, runpy, sys; sys.argv = {argv!r}; "
    "code = 0\ntry:\n    runpy.run_module('flue_decl', run_name='__main__')\n"
    "except SystemExit as e:\n    code = e.code or 0\n"
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "print('WORKERS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
    "file=sys.stderr)\n"
    "sys.exit(code)"
)


Peaks = dict[str, int]  # PEAK_KB: the process's own peak RSS; WORKERS_KB: its workers'


def timed(
    cmd: Sequence[str], repeat: int, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, Peaks]:
    """Median wall seconds over ``repeat`` runs, and the last run's peak RSS (KB) printed:
    its own, and the largest of the worker processes it forked (``--jobs``), whose pages
    shared with it count in both."""
    times: list[float] = []
    peak: Peaks = {}
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            list(cmd), capture_output=True, text=True, env=env, cwd=cwd, check=False
        )
        times.append(time.perf_counter() - start)
        for line in done.stderr.splitlines():
            if line.startswith(("PEAK_KB ", "WORKERS_KB ")):
                name, kb = line.split()
                peak[name] = int(kb)
    return statistics.median(times), peak


def flue(args: Sequence[str]) -> list[str]:
    return [PY, "-c", PEAK.format(argv=["flue-decl", *args])]


ROUNDS = 5  # resolve timings: median of this many rounds over the whole sequence


def resolve_ours(artifact: Path, specs: list[str], iterations: int) -> float:
    # The same loop shape as bench/resolve.mjs: a prepared sequence, one call per item.
    code = (
        "import statistics, time, flue_decl\n"
        f"r = flue_decl.load_artifact({str(artifact)!r}, env={{}}, import_handlers=False)\n"
        f"specs = {specs!r}\n"
        f"seq = [specs[i % len(specs)] for i in range({iterations})]\n"
        "def rounds(resolve, seq):\n"  # in a function, as service code runs: local names
        "    for s in seq: resolve(s)\n"
        "    runs = []\n"
        f"    for _ in range({ROUNDS}):\n"
        "        t = time.perf_counter()\n"
        "        for s in seq: resolve(s)\n"
        "        runs.append((time.perf_counter() - t) / len(seq) * 1e9)\n"
        "    return statistics.median(runs)\n"
        "print(rounds(r.resolve_model, seq))\n"
    )
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def resolve_reference(artifact: Path, specs: list[str], iterations: int) -> float | None:
    if shutil.which("node") is None or not (NODE_DIR / "node_modules").exists():
        return None
    from flue_decl.runtime import read_artifact

    calls = [c.to_replay(show_secrets=True) for c in read_artifact(str(artifact))]
    payload = artifact.with_suffix(".resolve.json")
    payload.write_text(
        json.dumps({"calls": calls, "specs": specs, "iterations": iterations, "rounds": ROUNDS})
    )
    script = (ROOT / "bench" / "resolve.mjs").read_text()
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script, str(payload)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout)["ns_per_call"])


def interleaved(
    runs: Mapping[str, Callable[[], tuple[float, Peaks]]], repeat: int
) -> dict[str, tuple[float, Peaks]]:
    """The median seconds (and the last peak RSS printed) of each run, taken in ``repeat``
    rounds that run every one once: on a shared machine the noise comes and goes over
    minutes, and within a round it lands on a command and its baselines alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    peaks: dict[str, Peaks] = {name: {} for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            seconds, peak = run()
            times[name].append(seconds)
            peaks[name] = peak or peaks[name]
    return {name: (statistics.median(times[name]), peaks[name]) for name in runs}


def measure(size: int, repeat: int, work: Path) -> dict[str, Any]:
    tree = generate(work / f"n{size}", size)
    single = split(tree, work / f"n{size}-single")
    schema = work / "schema.json"
    schema.write_text(json.dumps(__import__("flue_decl").bundled_schema()))
    artifact = work / f"n{size}.json"
    row: dict[str, Any] = {"files": size, "bytes": sum(f.stat().st_size for f in tree.iterdir())}
    cache_env = {**os.environ, "FLUE_DECL_CACHE_DIR": str(work / "cache")}
    # Fill the cache once the tree is older than a replay's two seconds (a tree written
    # within them is validated again: see flue_decl/cli/_replay.py), as a user's tree is.
    newest = max(f.stat().st_ctime for f in tree.iterdir())
    time.sleep(max(0.0, newest + 2.1 - time.time()))
    timed(flue(["validate", str(tree)]), 1, env=cache_env)
    load = (
        f"import flue_decl, resource, sys; flue_decl.load_artifact({str(artifact)!r}, "
        "env={}, import_handlers=False); "
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )
    one = ["--jobs", "1"]
    runs: dict[str, Callable[[], tuple[float, Peaks]]] = {
        "validate": lambda: timed(flue(["validate", "--no-cache", str(tree)]), 1, env=cache_env),
        "validate_one": lambda: timed(
            flue(["validate", "--no-cache", *one, str(tree)]), 1, env=cache_env
        ),
        "warm_validate": lambda: timed(flue(["validate", str(tree)]), 1, env=cache_env),
        "compile": lambda: timed(flue(["compile", str(tree), "-o", str(artifact)]), 1),
        "load_artifact": lambda: timed([PY, "-c", load], 1),
        "floor": lambda: timed([PY, str(ROOT / "bench" / "floor.py"), str(tree)], 1),
        "events": lambda: timed([PY, str(ROOT / "bench" / "events.py"), str(tree)], 1),
    }
    if shutil.which("node") and AJV.exists():
        # One glob of the split files: ajv-cli reads them itself (no command-line limit).
        ajv = [
            "node", str(AJV), "validate", "--spec=draft2020", "--strict=false",
            "-c", "ajv-formats", "-s", str(schema), "-d", f"{single[0].parent}/*.yaml",
        ]  # fmt: skip
        runs["ajv"] = lambda: timed(ajv, 1, cwd=BENCH_NODE)  # where ajv-formats resolves
    checker = shutil.which("check-jsonschema") or str(Path(PY).parent / "check-jsonschema")
    if Path(checker).exists():
        # Chunks keep the command line under the OS limit; their times add up.
        chunks = [single[i : i + CHUNK] for i in range(0, len(single), CHUNK)]
        runs["check_jsonschema"] = lambda: (
            sum(timed([checker, "--schemafile", str(schema), *map(str, c)], 1)[0] for c in chunks),
            {},
        )
    peaks = {
        "validate": "validate",
        "validate_one": "validate_one",
        "compile": "compile",
        "load_artifact": "load",
    }
    for name, (seconds, peak) in interleaved(runs, repeat).items():
        row[name] = seconds
        if name in peaks:
            row[f"{peaks[name]}_peak_kb"] = peak.get("PEAK_KB")
            row[f"{peaks[name]}_workers_kb"] = peak.get("WORKERS_KB")
    row["artifact_bytes"] = artifact.stat().st_size
    specs = [f"p{i}/model-{i % 10}:{8 * (i % 10 + 1)}b" for i in range(min(size, 50))]
    specs += [f"q{i}/claude-1" for i in range(min(size, 50))] + ["openai/gpt-4o"]
    iterations = 20000 if size <= 100 else 200000
    row["resolve_ns"] = resolve_ours(artifact, specs, iterations)
    row["resolve_ref_ns"] = resolve_reference(artifact, specs, iterations)
    if size <= RELOAD_MAX_FILES:
        row["reload"] = reloads(tree)
    return row


RELOAD_MAX_FILES = 1000  # a reload of a larger tree takes too long to repeat here


def reloads(tree: Path) -> dict[str, Any]:
    """bench/reload.py in a fresh process: request threads with and without reloads."""
    out = subprocess.run(
        [PY, str(ROOT / "bench" / "reload.py"), str(tree)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def startup(repeat: int) -> dict[str, float]:
    """Size-independent start-up costs, in a fresh process each: the bare interpreter, and
    each import above it."""
    bare = timed([PY, "-c", "pass"], repeat)[0]
    out = {"python": bare}
    for name, code in [
        ("import flue_decl", "import flue_decl"),
        ("from flue_decl import load_artifact", "from flue_decl import load_artifact"),
        ("import jsonschema (for scale)", "import jsonschema"),
    ]:
        out[name] = timed([PY, "-c", code], repeat)[0] - bare
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = (
        subprocess.run(
            ["node", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if shutil.which("node")
        else "none"
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, node {node}, "
        f"{platform.system()} {platform.release()}"
    )


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def report(rows: list[dict[str, Any]], repeat: int, start: dict[str, float]) -> str:
    lines = [
        "# flue-decl benchmarks",
        "",
        f"Written by `bench/run.py` (`make bench`) on {time.strftime('%Y-%m-%d')}: "
        f"{machine()}. Medians of {repeat} rounds, each running every command once in turn "
        "(noise lands on a command and its baselines alike), fresh processes, seconds "
        "unless marked.",
        "",
        "| files | size | validate | validate, 1 process | warm validate | compile "
        "| load_artifact | floor "
        "| check-jsonschema | ajv-cli | event parse | validate / check-jsonschema "
        "| validate / ajv-cli | validate / floor | validate / event parse | warm / cold "
        "| load_artifact / compile | resolve (ns) | reference resolve (ns) "
        "| resolve / reference | validate peak RSS (MB) | its worker's (MB) "
        "| validate, 1 process (MB) | compile peak RSS (MB) | its worker's (MB) "
        "| load_artifact peak RSS (MB) | artifact (MB) |",
        "|" + " ---: |" * 27,
    ]
    for r in rows:
        cj, ref = r.get("check_jsonschema"), r.get("resolve_ref_ns")
        cells = [
            str(r["files"]),
            f"{r['bytes'] / 1e6:.2f} MB",
            f"{r['validate']:.3f}",
            f"{r['validate_one']:.3f}",
            f"{r['warm_validate']:.3f}",
            f"{r['compile']:.3f}",
            f"{r['load_artifact']:.3f}",
            f"{r['floor']:.3f}",
            f"{cj:.3f}" if cj is not None else "n/a",
            f"{r['ajv']:.3f}" if r.get("ajv") is not None else "n/a",
            f"{r['events']:.3f}" if r.get("events") is not None else "n/a",
            ratio(r["validate"], cj),
            ratio(r["validate"], r.get("ajv")),
            ratio(r["validate"], r["floor"]),
            ratio(r["validate"], r.get("events")),
            ratio(r["warm_validate"], r["validate"]),
            ratio(r["load_artifact"], r["compile"]),
            f"{r['resolve_ns']:.0f}",
            f"{ref:.0f}" if ref else "n/a",
            ratio(r["resolve_ns"], ref),
            *(
                f"{(r.get(f'{name}_kb') or 0) / 1024:.0f}"
                for name in (
                    "validate_peak",
                    "validate_workers",
                    "validate_one_peak",
                    "compile_peak",
                    "compile_workers",
                    "load_peak",
                )
            ),
            f"{r.get('artifact_bytes', 0) / 1e6:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += reload_table(rows)
    lines += targets(rows)
    imports = ", ".join(f"`{k}` {v * 1000:.0f} ms" for k, v in start.items() if k != "python")
    lines += [
        "",
        f"Start-up, fresh processes, over the bare interpreter ({start['python'] * 1000:.0f} ms): "
        f"{imports}.",
        "",
        "Baselines: *floor* is PyYAML's C loader plus jsonschema on the same documents in one "
        "process (`bench/floor.py`); *check-jsonschema* validates the same documents against "
        "the bundled schema, split one per file because it reads single-document YAML only "
        "(in runs of at most 5,000 files, whose times are added up); *ajv-cli* is ajv-cli 5 "
        "(node, compiled Ajv validators, js-yaml) on those same files (`bench/node`); *event "
        "parse* is PyYAML's C parser run over the tree's files, events dropped "
        "(`bench/events.py`), the limit of any reader built on libyaml's events; "
        "*reference resolve* is `resolveModel` of @flue/runtime 0.11.1 in node on the same "
        "registry calls.",
        "",
    ]
    notes = ROOT / "bench" / "notes.md"
    if notes.exists():
        lines += [notes.read_text()]
    return "\n".join(lines)


def reload_table(rows: list[dict[str, Any]]) -> list[str]:
    """Two threads resolving while a watch of the tree sits idle, then reloads."""
    measured = [r for r in rows if "reload" in r]
    if not measured:
        return []
    lines = [
        "",
        "Reloads (`bench/reload.py`: two threads call `resolve_model` while a `watch` of the "
        "tree is idle, then while it reloads three times; times per call):",
        "",
        "| files | tracked objects | unchanged poll (ms CPU) | reload (s) | p99 idle (µs) "
        "| p99 reloading (µs) | worst idle (ms) | worst reloading (ms) "
        "| full collections reloading | longest full collection (ms) "
        "| its CPU time (ms) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in measured:
        x, quiet, busy = r["reload"], r["reload"]["quiet"], r["reload"]["reloads"]
        lines.append(
            f"| {r['files']} | {x['tracked_objects']} | {x['unchanged_poll_ms']:.1f} "
            f"| {x['reload_s']:.1f} | {quiet['p99_us']:.0f} | {busy['p99_us']:.0f} "
            f"| {quiet['max_ms']:.1f} | {busy['max_ms']:.1f} | {busy['full_collections']} "
            f"| {busy['full_max_ms']:.1f} | {busy.get('full_max_cpu_ms', 0.0):.1f} |"
        )
    return lines


def targets(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, checked against this run's 1,000-file row (and the growth to
    10,000 files when both sizes ran)."""
    by_size = {r["files"]: r for r in rows}
    row = by_size.get(1000)
    if row is None:
        return []
    checks: list[tuple[str, float | None, float]] = [
        (
            "cold validate / check-jsonschema",
            _over(row["validate"], row.get("check_jsonschema")),
            0.25,
        ),
        ("cold validate / ajv-cli", _over(row["validate"], row.get("ajv")), 0.8),
        ("cold validate / floor", _over(row["validate"], row["floor"]), 1.5),
        ("cold validate / bare event parse", _over(row["validate"], row.get("events")), 3.0),
        ("warm validate / cold validate", _over(row["warm_validate"], row["validate"]), 0.08),
        ("load_artifact / cold compile", _over(row["load_artifact"], row["compile"]), 0.08),
        ("resolve_model / reference", _over(row["resolve_ns"], row.get("resolve_ref_ns")), 0.5),
    ]
    if "reload" in row:  # not a ratio: the bound on one pause, in ms
        pause = row["reload"]["reloads"]["full_max_ms"]
        checks.append(("longest full collection while reloading (ms)", pause, 20.0))
    out = ["", "Targets at 1,000 files, this run:", ""]
    for name, value, limit in checks:
        verdict = "n/a" if value is None else ("met" if value <= limit else "NOT met")
        unit = "" if name.endswith("(ms)") else "x"
        shown = "n/a" if value is None else f"{value:.2f}{unit}"
        out.append(f"- {name}: {shown} (target ≤ {limit}{unit}): {verdict}")
    big = by_size.get(10000)
    if big is not None:  # at 10,000 files: memory and the artifact against the input
        size = big.get("bytes", 0)
        validate_kb, compile_kb = big.get("validate_peak_kb") or 0, big.get("compile_peak_kb") or 0
        one_kb = big.get("validate_one_peak_kb") or 0
        for name, value, limit in [
            ("validate peak RSS / input", _over(validate_kb * 1024, size), 15.0),
            ("validate peak RSS / input, one process", _over(one_kb * 1024, size), 15.0),
            ("compile peak RSS / input", _over(compile_kb * 1024, size), 15.0),
            ("artifact / input", _over(big.get("artifact_bytes", 0), size), 1.5),
            ("load_artifact (s)", big["load_artifact"], 0.3),
        ]:
            verdict = "n/a" if not value else ("met" if value <= limit else "NOT met")
            out.append(f"- at 10,000 files, {name}: {value or 0:.2f} (target ≤ {limit}): {verdict}")
        growth = ", ".join(
            f"{what} {big[key] / row[key]:.1f}x"
            for what, key in [("validate", "validate"), ("compile", "compile")]
        )
        out.append(f"- growth from 1,000 to 10,000 files (linear is 10x): {growth}")
    return out


def _over(a: float, b: float | None) -> float | None:
    return a / b if b else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="size 10, one run: runs at all?")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    sizes, repeat = ([10], 1) if args.smoke else (args.sizes, args.repeat)
    # Byte-compiled first, as an installed wheel is: with PYTHONDONTWRITEBYTECODE set (as
    # on some CI machines) every fresh process would otherwise compile changed modules.
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "flue_decl")], check=True)
    rows = []
    # A few ms each: many runs keep one slow start from showing (a smoke run needs one).
    start = startup(1 if args.smoke else 21)
    print(json.dumps(start), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            rows.append(measure(size, repeat if size < 10000 else max(1, repeat // 2), Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
    Path(args.output).write_text(report(rows, repeat, start))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
