"""The pre-commit hook, used from another repository the way that project would: its
``.pre-commit-config.yaml`` names this repository (a local clone of this working tree) and
no ``args``; the paths come from that repository's own settings file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import git, snapshot_repository

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def test_hook_honours_the_repositorys_settings(tmp_path: Path) -> None:
    assert PRE_COMMIT.exists(), "pre-commit is a dev dependency"
    hooks = tmp_path / "flue-decl"
    rev = snapshot_repository(hooks)
    project = tmp_path / "service"
    tree = project / "deploy" / "providers"
    tree.mkdir(parents=True)
    (tree / "10-ollama.yaml").write_text(
        "kind: Provider\nid: ollama\napi: openai-completions\n"
        "baseUrl: http://localhost:11434/v1\n"
    )
    (project / "pyproject.toml").write_text(
        '[project]\nname = "service"\n\n[tool.flue-decl]\npaths = ["deploy/providers"]\n'
    )
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: flue-decl-validate\n"
    )
    git(project, "init", "-q")
    git(project, "add", ".")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "NO_COLOR": "1",
    }
    run = [str(PRE_COMMIT), "run", "--all-files", "--color", "never"]

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            run, check=False, cwd=project, env=env, capture_output=True, text=True, timeout=600
        )

    good = hook()
    assert good.returncode == 0, good.stdout + good.stderr
    assert "flue-decl validate" in good.stdout
    assert "Passed" in good.stdout

    (tree / "99-typo.yaml").write_text(
        "kind: Provider\nid: typo\napi: openai-completions\nbaseURL: https://x.example\n"
    )
    git(project, "add", ".")
    bad = hook()
    assert bad.returncode == 1
    assert "deploy/providers/99-typo.yaml:4:1: error[unknown-key]" in bad.stdout
    assert "did you mean `baseUrl`?" in bad.stdout

    # The settings decide: a path that does not exist fails the hook (exit 2), never a
    # silent green; a change to the settings file alone runs the hook.
    (tree / "99-typo.yaml").unlink()
    (project / "pyproject.toml").write_text('[tool.flue-decl]\npaths = ["deploy/provider"]\n')
    git(project, "add", "-A")
    changed_only_settings = subprocess.run(
        [str(PRE_COMMIT), "run", "--files", "pyproject.toml", "--color", "never"],
        check=False,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert changed_only_settings.returncode == 1, changed_only_settings.stdout
    assert "no such file or directory: deploy/provider" in changed_only_settings.stdout
