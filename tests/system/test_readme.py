"""Every command the README shows runs on a fresh checkout, and its sample output is real."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, run_cli

README = (REPO / "README.md").read_text(encoding="utf-8")
# Dummy values for the examples' secrets: the commands must run, not reach anyone.
ENV = {"ANTHROPIC_API_KEY": "a", "OPENROUTER_API_KEY": "o", "ACME_API_KEY": "k", "SIGN": "s"}


def _shown_commands() -> list[str]:
    """``$ flue-decl ...`` lines of code blocks and runnable ``flue-decl ...`` spans."""
    found = [m.group(1) for m in re.finditer(r"^\$ (flue-decl [^\n#]*)", README, re.M)]
    for span in re.findall(r"`(flue-decl [^`]*)`", README):
        placeholder = re.search(r"[\[\]<>|]|\.\.\.|PATH|SPEC|NAME|\bID\b|PREFIXES", span)
        if not placeholder and len(span.split()) >= 3:  # `flue-decl emit` names a command
            found.append(span)
    return sorted({c.strip() for c in found})


COMMANDS = _shown_commands()


def test_the_readme_shows_commands() -> None:
    assert len(COMMANDS) >= 5, COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_the_readme_runs(command: str, tmp_path: Path) -> None:
    for tree in ("providers.d", "overlays", "examples"):
        shutil.copytree(REPO / tree, tmp_path / tree)
    argv = shlex.split(command)[1:]
    if ">" in argv:  # a redirection: the output goes to stdout here
        argv = argv[: argv.index(">")]
    argv = ["SIGN" if a == "ARTIFACT_SIGNING_KEY" else a for a in argv]
    env = {**ENV, "PYTHONPATH": str(tmp_path / "examples")}
    result = run_cli(*argv, cwd=tmp_path, env=env)
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert result.returncode in (0, 1), (command, result.stdout, result.stderr)


def test_the_sample_of_make_run_is_what_list_prints() -> None:
    sample = README.split("`make run` prints a summary like this")[1].split("```")[1]
    printed = run_cli("list", env=ENV).stdout.splitlines()
    for line in sample.strip().splitlines():
        if line != "...":
            assert line in printed, line
