"""``diff --old-ref REF``: review a change to providers.d against a git commit, read from
git's objects, the working tree untouched."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.helpers import run_cli

BASE = """\
kind: Provider
id: p
api: openai-completions
baseUrl: https://p.example.com/v1
apiKey: "{{ env.P_KEY }}"
models:
  m: {maxTokens: 100}
"""
OVERLAY = "kind: Provider\nid: p\noverlay: true\nmodels:\n  m: {contextWindow: 9}\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "providers.d").mkdir(parents=True)
    (repo / "overlays").mkdir()
    (repo / "providers.d" / "p.yaml").write_text(BASE)
    (repo / "overlays" / "p.yaml").write_text(OVERLAY)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    (repo / "providers.d" / "p.yaml").write_text(BASE.replace("maxTokens: 100", "maxTokens: 200"))
    git(repo, "commit", "-q", "-am", "two")
    return repo


def test_the_working_tree_against_a_commit_without_touching_it(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    (repo / "providers.d" / "p.yaml").write_text(BASE.replace("maxTokens: 100", "maxTokens: 300"))
    (repo / "overlays" / "p.yaml").write_text(OVERLAY.replace("9", "11"))
    before = git(repo, "status", "--porcelain")
    result = run_cli(
        "diff", "--old-ref", "HEAD~1", "providers.d", "overlays", "--isolated",
        "--format", "json", cwd=repo,
    )
    assert result.returncode == 1, result.stderr  # different
    changes = json.loads(result.stdout)["changed"][0]["changes"]
    # Both layers on both sides: the base's change and the overlay's.
    assert changes["maxTokens"] == {"old": 100, "new": 300}
    assert changes["contextWindow"] == {"old": 9, "new": 11}
    assert git(repo, "status", "--porcelain") == before  # nothing checked out or written


def test_two_commits_and_the_settings_paths(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    (repo / "flue-decl.toml").write_text('paths = ["providers.d"]\n')
    result = run_cli("diff", "--old-ref", "HEAD~1", "--new-ref", "HEAD", cwd=repo)
    assert result.returncode == 1, result.stderr
    assert "100" in result.stdout
    assert "200" in result.stdout
    same = run_cli("diff", "--old-ref", "HEAD", "--new-ref", "HEAD", "--format", "markdown",
                   cwd=repo)
    assert same.returncode == 0, same.stderr


def test_what_cannot_be_read_is_exit_2_and_says_why(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    unknown = run_cli("diff", "--old-ref", "no-such-ref", "providers.d", "--isolated", cwd=repo)
    assert unknown.returncode == 2
    assert "no-such-ref" in unknown.stderr
    absent = run_cli("diff", "--old-ref", "HEAD~1", "nothing.d", "--isolated", cwd=repo)
    assert absent.returncode == 2
    assert "nothing.d did not exist at HEAD~1" in absent.stderr
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    (elsewhere / "providers.d").mkdir()
    outside = run_cli("diff", "--old-ref", "HEAD", "providers.d", "--isolated", cwd=elsewhere)
    assert outside.returncode == 2
    assert "git" in outside.stderr


def test_a_crafted_tree_cannot_write_outside_the_scratch_directory(tmp_path: Path) -> None:
    # git accepts a tree entry named `..` when made by hand (fsck only warns): what a
    # hostile branch could put before CI's diff. Nothing may be written through it.
    repo = repository(tmp_path)
    blob = git(repo, "hash-object", "-w", "providers.d/p.yaml").strip()
    evil_name = "evil-" + tmp_path.name + ".yaml"
    inner = subprocess.run(
        ["git", "mktree", "--missing"],
        input=f"100644 blob {blob}\t{evil_name}\n",
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.strip()
    # providers.d/.. -> a tree holding the file: providers.d/../evil.yaml
    dotdot = subprocess.run(
        ["git", "hash-object", "-t", "tree", "-w", "--literally", "--stdin"],
        input=b"40000 ..\0" + bytes.fromhex(inner) + b"100644 p.yaml\0" + bytes.fromhex(blob),
        cwd=repo, capture_output=True, check=True,
    ).stdout.decode().strip()
    top = subprocess.run(
        ["git", "mktree", "--missing"],
        input=f"040000 tree {dotdot}\tproviders.d\n",
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.strip()
    commit = git(repo, "commit-tree", top, "-m", "evil").strip()
    result = run_cli("diff", "--old-ref", commit, "providers.d", "--isolated", cwd=repo)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no checkout would write" in result.stderr
    assert not list(tmp_path.rglob(evil_name))
    assert not (Path("/tmp") / evil_name).exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    (repo / "providers.d" / "big.yaml").write_text("# " + "x" * 5000 + "\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "big")
    (repo / "flue-decl.toml").write_text("max-file-bytes = 1000\n")
    result = run_cli("diff", "--old-ref", "HEAD", "providers.d", cwd=repo)
    assert result.returncode == 2
    assert "larger than 1000 bytes" in result.stderr
