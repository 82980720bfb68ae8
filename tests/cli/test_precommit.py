"""The pre-commit hook, used from a scratch repository the way another project would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()


@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed")
def test_hook_passes_a_good_tree_and_fails_a_bad_one(tmp_path: Path) -> None:
    if _git(
        REPO,
        "status",
        "--porcelain",
        "--",
        ".pre-commit-hooks.yaml",
        "flue_decl",
        "schemas",
        "pyproject.toml",
    ):
        pytest.skip("the hook is installed from the last commit; commit first to test it")
    rev = _git(REPO, "rev-parse", "HEAD")
    project = tmp_path / "service"
    shutil.copytree(REPO / "providers.d", project / "providers.d")
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {rev}\n    hooks:\n      - id: flue-decl-validate\n"
    )
    _git(project, "init", "-q")
    _git(project, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
    run = [str(PRE_COMMIT), "run", "--all-files", "--color", "never"]
    good = subprocess.run(
        run, check=False, cwd=project, env=env, capture_output=True, text=True, timeout=600
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "flue-decl validate" in good.stdout
    assert "Passed" in good.stdout

    (project / "providers.d" / "99-typo.yaml").write_text(
        "kind: Provider\nid: typo\napi: openai-completions\nbaseURL: https://x.example\n"
    )
    _git(project, "add", ".")
    bad = subprocess.run(
        run, check=False, cwd=project, env=env, capture_output=True, text=True, timeout=600
    )
    assert bad.returncode == 1
    assert "providers.d/99-typo.yaml:4:1: error[unknown-key]" in bad.stdout
    assert "did you mean `baseUrl`?" in bad.stdout
