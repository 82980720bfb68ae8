"""``validate`` replayed (``flue_decl.cli._replay``), as a user runs it: the command in a
fresh process, twice in a repository. The second run of an unchanged tree is answered from
the record of the first, with the same bytes and exit code, having loaded none of the
command line; any change to what the first run read runs the command again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flue_decl.cli import _replay
from tests.helpers import write_files

GOOD = "kind: Provider\nid: a\napi: openai-completions\nbaseUrl: https://a.example/v1\n"
OTHER = GOOD.replace("id: a", "id: b")
BAD = GOOD + "colour: blue\n"  # an unknown key: exit 1
# The command as the console script runs it; on exit, whether the command line was loaded.
COMMAND = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('RAN' if 'flue_decl.cli._main' in sys.modules "
    "else 'REPLAYED', file=sys.stderr))\n"
    "sys.argv = ['flue-decl', *sys.argv[1:]]\n"
    "from flue_decl.cli import run\n"
    "run()\n"
)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Repositories made once, old enough to be recorded (``_replay.RACY_NS``); each test
    takes a copy with its times (``copy2``, whose change times are new: see ``project``)."""
    root = tmp_path_factory.mktemp("replay")
    for name, text in (("good", GOOD), ("bad", BAD)):
        write_files(root / name, {"providers.d/a.yaml": text, "providers.d/b.yaml": OTHER})
        (root / name / ".git").mkdir()  # the settings search stops here
    # A file name that is not UTF-8, in the output of the run and of its replay.
    write_files(root / "odd", {"providers.d/b.yaml": OTHER})
    (root / "odd" / "providers.d" / os.fsdecode(b"caf\xe9.yaml")).write_text(BAD)
    (root / "odd" / ".git").mkdir()
    # A tree reached through a link and `..`, and one whose file is a chain of links.
    write_files(root / "far", {"providers.d/a.yaml": GOOD, "inner/.keep": ""})
    write_files(root / "near", {".git/HEAD": ""})
    (root / "near" / "link").symlink_to(root / "far" / "inner")
    write_files(root / "data", {"v1/sub/x.txt": GOOD, "v2/.keep": "", "chain/.git/HEAD": ""})
    os.link(root / "data" / "v1" / "sub" / "x.txt", root / "data" / "v2" / "x.txt")
    (root / "data" / "current").symlink_to(root / "data" / "v1" / "sub")
    (root / "data" / "v1" / "a.yaml").symlink_to(root / "data" / "current" / "x.txt")
    (root / "data" / "chain" / "providers.d").symlink_to(root / "data" / "v1")
    # Many problems: more output than a pipe holds.
    bad = BAD + "shade: dark\n"
    many = {f"providers.d/p{i}.yaml": bad.replace("id: a", f"id: p{i}") for i in range(200)}
    write_files(root / "many", {**many, ".git/HEAD": ""})
    time.sleep(_replay.RACY_NS / 1e9 + 0.1)
    return root


@pytest.fixture
def project(projects: Path) -> Path:
    return projects / "good"


def run(cwd: Path, *args: str, **env: str) -> tuple[str, int, str, str]:
    """(stdout, exit code, RAN or REPLAYED, stderr without that word)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    clean["FLUE_DECL_CACHE_DIR"] = str(cwd.parent / f"cache-{cwd.name}")
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, "validate", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        check=False,
        timeout=60,
    )
    *said, how = done.stderr.decode().splitlines() or [""]
    return done.stdout.decode(), done.returncode, how, "\n".join(said)


@pytest.mark.parametrize("name", ["good", "bad", "odd"])
@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_an_unchanged_tree_is_replayed_with_the_same_output(
    projects: Path, name: str, fmt: str
) -> None:
    cwd = projects / name
    first = run(cwd, "--format", fmt, "providers.d")
    assert first[1:3] == ((0 if name == "good" else 1), "RAN")
    again = run(cwd, "--format", fmt, "providers.d")
    assert again == (first[0], first[1], "REPLAYED", "")
    assert run(cwd, "--format", fmt, "providers.d") == again


def _settled(path: Path) -> None:
    """Wait until ``path``'s change is old enough to be recorded."""
    changed = os.stat(path).st_ctime_ns
    time.sleep(max(0.0, (changed + _replay.RACY_NS - time.time_ns()) / 1e9 + 0.05))


def _copied(project: Path, tmp_path: Path) -> Path:
    """A copy of ``project`` (times kept), once old enough to be recorded."""
    cwd = tmp_path / "repo"
    shutil.copytree(project, cwd, copy_function=shutil.copy2)
    _settled(cwd / "providers.d" / "a.yaml")
    return cwd


def test_every_change_to_what_a_run_read_runs_it_again(
    projects: Path, tmp_path: Path
) -> None:
    cwd = _copied(projects / "good", tmp_path)
    tree = cwd / "providers.d"
    baseline = run(cwd, "providers.d")
    assert baseline[1:3] == (0, "RAN")
    assert run(cwd, "providers.d")[2] == "REPLAYED"

    # Edited, same size, its modification time put back: the change time tells.
    a = tree / "a.yaml"
    info = a.stat()
    a.write_text(GOOD.replace("completions", "completionz"))
    os.utime(a, ns=(info.st_atime_ns, info.st_mtime_ns))
    edited = run(cwd, "providers.d")
    assert edited[1:3] == (1, "RAN")
    assert "a.yaml" in edited[0]
    a.write_text(GOOD)
    # Touched only: run again, answered by the content cache, the same output.
    _settled(a)
    assert run(cwd, "providers.d")[1:3] == (0, "RAN")
    assert run(cwd, "providers.d")[2] == "REPLAYED"
    os.utime(a)
    assert run(cwd, "providers.d")[:3] == (baseline[0], 0, "RAN")
    # A file added, then removed: the directory's times tell.
    _settled(a)
    run(cwd, "providers.d")
    (tree / "c.yaml").write_text(BAD.replace("id: a", "id: c"))
    assert run(cwd, "providers.d")[1:3] == (1, "RAN")
    (tree / "c.yaml").unlink()
    assert run(cwd, "providers.d")[1:3] == (0, "RAN")
    # A settings file where the search looks; then another environment.
    _settled(tree)
    run(cwd, "providers.d")
    (cwd / "flue-decl.toml").write_text("strict = true\nformat = 'json'\n")
    assert run(cwd, "providers.d")[0].startswith("{")
    (cwd / "flue-decl.toml").unlink()
    _settled(cwd)
    assert run(cwd, "providers.d")[2] == "RAN"
    assert run(cwd, "providers.d")[2] == "REPLAYED"
    github = run(cwd, "providers.d", GITHUB_ACTIONS="true")
    assert github[2] == "RAN"
    assert github[0] != baseline[0]
    assert run(cwd, "providers.d", NO_COLOR="1")[2] == "RAN"
    # Other arguments, another directory.
    assert run(cwd, "providers.d", "--strict")[2] == "RAN"
    assert run(cwd, "--no-cache", "providers.d")[2] == "RAN"
    assert run(cwd, "--no-cache", "providers.d")[2] == "RAN"  # never recorded
    assert run(tree, ".", FLUE_DECL_CACHE_DIR=str(tmp_path / "cache-repo"))[2] == "RAN"
    assert run(cwd, "providers.d")[:3] == (baseline[0], 0, "REPLAYED")


def test_a_run_that_read_a_fresh_change_is_not_recorded(tmp_path: Path) -> None:
    cwd = tmp_path / "repo"
    write_files(cwd, {"providers.d/a.yaml": GOOD})
    (cwd / ".git").mkdir()
    assert run(cwd, "providers.d")[2] == "RAN"
    assert run(cwd, "providers.d")[2] == "RAN"  # the tree is younger than RACY_NS


def test_a_record_that_is_not_whole_or_not_private_is_not_replayed(
    projects: Path, tmp_path: Path
) -> None:
    cwd = _copied(projects / "bad", tmp_path)
    first = run(cwd, "providers.d")
    (record,) = (tmp_path / "cache-repo").glob("replay-*")
    data = record.read_bytes()
    assert str(Path(_replay.__file__).resolve()).encode() in data  # flue-decl's own files
    assert str((cwd / "providers.d" / "b.yaml").resolve()).encode() in data
    for damaged in (data[:-1], data[:-1] + b"X", data[: len(data) // 2], b"", b"\0\0\0"):
        record.write_bytes(damaged)
        assert run(cwd, "providers.d")[:3] == (first[0], 1, "RAN")
        _settled(cwd / "providers.d")
        record.write_bytes(data)
    record.chmod(0o666)
    assert run(cwd, "providers.d")[:3] == (first[0], 1, "RAN")
    record.write_bytes(data)
    record.chmod(0o600)
    (tmp_path / "cache-repo").chmod(0o777)
    assert run(cwd, "providers.d")[2] == "RAN"
    (tmp_path / "cache-repo").chmod(0o700)
    assert run(cwd, "providers.d")[:3] == (first[0], 1, "REPLAYED")


def test_a_replay_that_cannot_write_says_so(projects: Path) -> None:
    cwd = projects / "good"
    run(cwd, "providers.d")
    env = {**os.environ, "FLUE_DECL_CACHE_DIR": str(cwd.parent / "cache-good")}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", COMMAND, "validate", "providers.d"],
            cwd=cwd,
            env={k: v for k, v in env.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")},
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "flue-decl: cannot write to standard output: No space left on device",
        "REPLAYED",
    ]


def test_a_replay_loads_four_modules_of_flue_decl_and_no_heavy_standard_one(
    projects: Path,
) -> None:
    cwd = projects / "good"
    run(cwd, "providers.d")
    assert run(cwd, "providers.d")[2] == "REPLAYED"
    heavy = ("typing", "json", "re", "dataclasses", "enum", "hashlib", "argparse", "pathlib")
    listing = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules if m.startswith("
        f"'flue_decl') or m in {heavy!r}), file=sys.stderr))\n"
        "sys.argv = ['flue-decl', 'validate', 'providers.d']\n"
        "from flue_decl.cli import run\n"
        "run()\n"
    )
    env = {**os.environ, "FLUE_DECL_CACHE_DIR": str(cwd.parent / "cache-good")}
    for name in ("NO_COLOR", "GITHUB_ACTIONS"):
        env.pop(name, None)
    command = [sys.executable, "-c", listing]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    assert done.stderr.strip() == str(
        ["flue_decl", "flue_decl._version", "flue_decl.cli", "flue_decl.cli._replay"]
    )


def test_what_discovery_looks_into_is_recorded_too(projects: Path, tmp_path: Path) -> None:
    cwd = tmp_path / "repo"
    shutil.copytree(projects / "good", cwd, copy_function=shutil.copy2)
    (cwd / "providers.d" / "sub").mkdir()
    (cwd / "providers.d" / "sub" / "notes.txt").write_text("x")
    _settled(cwd / "providers.d" / "sub" / "notes.txt")
    assert run(cwd, "--strict", "providers.d")[1:3] == (0, "RAN")
    assert run(cwd, "--strict", "providers.d")[1:3] == (0, "REPLAYED")
    # YAML in a subdirectory: a warning that it is not read (an error with --strict).
    (cwd / "providers.d" / "sub" / "x.yaml").write_text(OTHER)
    assert run(cwd, "--strict", "providers.d")[1:3] == (1, "RAN")


def test_paths_through_links_are_recorded_as_the_run_read_them(projects: Path) -> None:
    near = projects / "near"
    assert run(near, "link/../providers.d")[1:3] == (0, "RAN")
    assert run(near, "link/../providers.d")[1:3] == (0, "REPLAYED")
    chain = projects / "data" / "chain"
    assert run(chain, "providers.d")[1:3] == (0, "RAN")
    assert run(chain, "providers.d")[1:3] == (0, "REPLAYED")
    # The link in the middle of the chain now leads out of the tree, to the same file.
    current = projects / "data" / "current"
    current.unlink()
    current.symlink_to(projects / "data" / "v2")
    relinked = run(chain, "providers.d")
    assert relinked[1:3] == (1, "RAN")
    assert "outside" in relinked[0]
    far = projects / "far" / "providers.d" / "a.yaml"
    far.write_text(BAD)
    assert run(near, "link/../providers.d")[1:3] == (1, "RAN")


def test_another_flue_decl_does_not_replay_this_ones_record(
    projects: Path, tmp_path: Path
) -> None:
    cwd = projects / "good"
    run(cwd, "providers.d")
    assert run(cwd, "providers.d")[2] == "REPLAYED"
    package = Path(_replay.__file__).resolve().parents[1]
    copy = tmp_path / "copy"
    shutil.copytree(package, copy / "flue_decl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(package.parent / "schemas", copy / "schemas")
    assert run(cwd, "providers.d", PYTHONPATH=str(copy))[2] == "RAN"


def test_a_replay_waits_for_a_full_non_blocking_pipe(projects: Path) -> None:
    cwd = projects / "many"
    outputs = []
    for _ in range(3):
        read, write = os.pipe()
        os.set_blocking(write, False)
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
        env["FLUE_DECL_CACHE_DIR"] = str(cwd.parent / "cache-many")
        with subprocess.Popen(
            [sys.executable, "-c", COMMAND, "validate", "providers.d"],
            cwd=cwd, env=env, stdout=write, stderr=subprocess.PIPE,
        ) as child:  # fmt: skip
            os.close(write)
            time.sleep(0.5)  # the pipe fills before anyone reads it
            with os.fdopen(read, "rb") as pipe:
                data = pipe.read()
            how = child.communicate()[1].decode().split()[-1]
        outputs.append((data, child.returncode, how))
    assert len(outputs[0][0]) > 65536
    assert outputs[0][1:] == (1, "RAN")
    assert outputs[2] == (outputs[0][0], 1, "REPLAYED")


def test_a_closed_standard_output_is_exit_2(projects: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    env["FLUE_DECL_CACHE_DIR"] = str(projects / "cache-good")
    done = subprocess.run(
        [sys.executable, "-m", "flue_decl", "validate", "providers.d"],
        cwd=projects / "good", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, check=False, preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "flue-decl: cannot write to standard output: Bad file descriptor\n"


def test_only_the_newest_records_are_kept(tmp_path: Path) -> None:
    for n in range(_replay.KEPT + 6):
        record = tmp_path / f"replay-{n:016x}"
        record.write_text("")
        os.utime(record, ns=(n, n))
    (tmp_path / "other.json").write_text("{}")
    _replay._prune(str(tmp_path))
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["other.json", *(f"replay-{n:016x}" for n in range(6, _replay.KEPT + 6))]
