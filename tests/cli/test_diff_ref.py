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
