"""The validation cache: an unchanged tree is answered from the cache, any change is a miss,
a corrupt entry is a miss, concurrent runs are safe, --no-cache bypasses it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, run_cli, write_files

BAD = {"providers.d/a.yaml": "kind: Provider\nid: x\napi: openai-completions\nbaseURL: https://x\n"}


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.json"))


def test_an_unchanged_tree_is_answered_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write_files(tmp_path, BAD)
    env = {"FLUE_DECL_CACHE_DIR": str(cache)}
    first = run_cli("validate", "--format", "json", cwd=tmp_path, env=env)
    (entry,) = entries(cache)
    # Prove the next run reads the entry: change the cached message and see it come back.
    data = json.loads(entry.read_text())
    data["diagnostics"][0]["message"] = "FROM THE CACHE"
    entry.write_text(json.dumps(data))
    second = run_cli("validate", "--format", "json", cwd=tmp_path, env=env)
    assert second.returncode == first.returncode == 1
    assert json.loads(second.stdout)["diagnostics"][0]["message"] == "FROM THE CACHE"
    fresh = run_cli("validate", "--format", "json", "--no-cache", cwd=tmp_path, env=env)
    assert fresh.stdout == first.stdout


def test_any_change_is_a_miss(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"FLUE_DECL_CACHE_DIR": str(cache)}
    write_files(tmp_path, BAD)
    assert run_cli("validate", cwd=tmp_path, env=env).returncode == 1
    (tmp_path / "providers.d" / "a.yaml").write_text(
        BAD["providers.d/a.yaml"].replace("baseURL", "baseUrl")
    )
    assert run_cli("validate", cwd=tmp_path, env=env).returncode == 0
    write_files(tmp_path, {"providers.d/b.yaml": "kind: Nope\n"})  # a new file
    assert run_cli("validate", cwd=tmp_path, env=env).returncode == 1
    assert len(entries(cache)) == 3


def test_a_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"FLUE_DECL_CACHE_DIR": str(cache)}
    write_files(tmp_path, BAD)
    expected = run_cli("validate", cwd=tmp_path, env=env).stdout
    (entry,) = entries(cache)
    for damage in ("{not json", json.dumps({"format": "x"}), ""):
        entry.write_text(damage)
        result = run_cli("validate", cwd=tmp_path, env=env)
        assert (result.returncode, result.stdout) == (1, expected)
        assert "Traceback" not in result.stderr


def test_concurrent_runs_on_an_empty_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write_files(tmp_path, BAD)
    env = {"FLUE_DECL_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flue_decl", "validate", "--format", "json"],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert {p.returncode for p in procs} == {1}
    assert len({out for out, _ in outputs}) == 1
    assert len(entries(cache)) == 1
    assert not list(cache.glob(".tmp-*"))


def test_an_unwritable_cache_does_not_fail_validation(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    write_files(tmp_path, BAD)
    result = run_cli("validate", cwd=tmp_path, env={"FLUE_DECL_CACHE_DIR": str(blocker / "c")})
    assert result.returncode == 1
    assert "unknown-key" in result.stdout


def test_a_cache_others_may_write_to_is_not_trusted(tmp_path: Path) -> None:
    # A shared CI cache: someone forges a passing entry for a failing tree.
    cache = tmp_path / "cache"
    write_files(tmp_path, BAD)
    env = {"FLUE_DECL_CACHE_DIR": str(cache)}
    assert run_cli("validate", cwd=tmp_path, env=env).returncode == 1
    (entry,) = entries(cache)
    data = json.loads(entry.read_text())
    data["diagnostics"] = []
    entry.write_text(json.dumps(data))
    entry.chmod(0o600)
    assert run_cli("validate", cwd=tmp_path, env=env).returncode == 0  # ours: trusted
    cache.chmod(0o777)
    shared = run_cli("validate", cwd=tmp_path, env=env)
    assert shared.returncode == 1  # validated from scratch
    assert "not using the validation cache" in shared.stderr
    cache.chmod(0o700)
    entry.chmod(0o666)
    assert run_cli("validate", cwd=tmp_path, env=env).returncode == 1  # the entry alone


def test_entries_that_are_not_read_are_part_of_the_key(tmp_path: Path) -> None:
    env = {"FLUE_DECL_CACHE_DIR": str(tmp_path / "cache")}
    good = "kind: Provider\nid: x\napi: openai-completions\nbaseUrl: https://x.example/v1\n"
    write_files(tmp_path, {"providers.d/a.yaml": good})
    assert run_cli("validate", "--strict", cwd=tmp_path, env=env).returncode == 0
    (tmp_path / "providers.d" / "b.json").write_text("{}")
    warned = run_cli("validate", "--strict", cwd=tmp_path, env=env)
    assert warned.returncode == 1
    assert "warning[ignored-file]" in warned.stdout
    (tmp_path / "providers.d" / "b.json").rename(tmp_path / "providers.d" / "b.yaml.bak")
    assert run_cli("validate", "--strict", cwd=tmp_path, env=env).returncode == 0


def test_an_edit_between_lookup_and_compile_is_filed_under_its_own_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import flue_decl.compiler
    from flue_decl.cli import main

    good = "kind: Provider\nid: x\napi: openai-completions\nbaseUrl: https://x.example/v1\n"
    tree = tmp_path / "providers.d"
    write_files(tmp_path, {"providers.d/a.yaml": good})
    monkeypatch.setenv("FLUE_DECL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    real = flue_decl.compiler.compile_paths
    edits = [BAD["providers.d/a.yaml"]]

    def saved_meanwhile(*args: object, **kwargs: object) -> object:
        if edits:  # the file is saved after validate hashed it, before it is read
            (tree / "a.yaml").write_text(edits.pop())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(flue_decl.compiler, "compile_paths", saved_meanwhile)
    assert main(["validate", "--isolated"]) == 1  # the bad bytes were validated
    (tree / "a.yaml").write_text(good)
    assert main(["validate", "--isolated"]) == 0  # good bytes: never answered "bad"
    (tree / "a.yaml").write_text(BAD["providers.d/a.yaml"])
    assert main(["validate", "--isolated"]) == 1  # and bad bytes never "ok"
    capsys.readouterr()
