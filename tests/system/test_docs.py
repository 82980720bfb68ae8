"""The docs are true: every ``$ `` line of a ``console`` block in README.md and docs/ runs
in a fresh copy of the bundled examples and prints what is shown; the tables generated
from the code are up to date; every link leads somewhere; the README starts with the
user's repository."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from flue_decl import compile_paths
from tests.helpers import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
EXAMPLES = ("providers.d", "overlays", "examples")
# Dummy values for the examples' secrets: the commands must run, not reach anyone.
ENV = {"ANTHROPIC_API_KEY": "a", "OPENROUTER_API_KEY": "o", "ACME_API_KEY": "k", "SIGN": "s"}


@dataclass(frozen=True)
class Step:
    command: str
    shown: tuple[str, ...]  # the output printed under it; empty: not checked


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    steps: tuple[Step, ...]

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def console_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"^```console\n(.*?)^```$", text, re.S | re.M):
        steps: list[tuple[str, list[str]]] = []
        for line in match.group(1).splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"{page.name}: output before the first command"
                steps[-1][1].append(line)
        line_number = text.count("\n", 0, match.start()) + 1
        blocks.append(
            Block(page, line_number, tuple(Step(c, tuple(out)) for c, out in steps))
        )
    return blocks


BLOCKS = [block for page in PAGES for block in console_blocks(page)]


def shown_matches(shown: tuple[str, ...], printed: str) -> bool:
    """``printed`` is exactly ``shown``, where a line ``...`` stands for any lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line == "..." else re.escape(line.rstrip()) + r"\n"
        for line in shown
    )
    lines = "".join(line.rstrip() + "\n" for line in printed.splitlines())
    return re.fullmatch(pattern, lines) is not None


def test_the_docs_show_commands() -> None:
    assert {b.page.name for b in BLOCKS} >= {"README.md", "settings.md", "command-line.md"}
    assert sum(len(b.steps) for b in BLOCKS) >= 10


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_every_console_command_runs_and_prints_what_is_shown(
    block: Block, tmp_path: Path
) -> None:
    for tree in EXAMPLES:
        shutil.copytree(REPO / tree, tmp_path / tree)
    bin_dir = Path(sys.executable).parent
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))},
        **ENV,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(tmp_path / "examples"),
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }
    for name in ("GITHUB_ACTIONS", "FORCE_COLOR"):
        env.pop(name, None)
    for step in block.steps:
        done = subprocess.run(
            ["bash", "-c", step.command],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
            check=False,
        )
        where = f"{block.id}: $ {step.command}\n{done.stdout}"
        assert done.returncode == 0, where
        assert "Traceback" not in done.stdout, where
        assert "internal error" not in done.stdout, where
        if step.shown:
            assert shown_matches(step.shown, done.stdout), where


def test_the_output_matcher() -> None:
    assert shown_matches(("a", "...", "d"), "a\nb\nc\nd\n")
    assert shown_matches(("a", "...", "b"), "a\nb\n")
    assert not shown_matches(("a", "d"), "a\nb\nd\n")
    assert not shown_matches(("a",), "a\nb\n")
    assert shown_matches(("...", "b"), "a\nb")


def _update_docs() -> object:
    spec = importlib.util.spec_from_file_location(
        "update_docs", REPO / "scripts" / "update_docs.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_are_up_to_date() -> None:
    docs = _update_docs()
    for (file, name), make in docs.GENERATED.items():  # type: ignore[attr-defined]
        text = (REPO / "docs" / file).read_text(encoding="utf-8")
        assert docs.updated(text, name, make()) == text, f"run `make docs` ({file})"  # type: ignore[attr-defined]


def test_the_readme_starts_with_the_users_repository() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[:2] == ["Install into your repository", "Five minutes"]
    assert 'pip install "flue-decl @ git+' in text
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in text, f"the README does not link {page.name}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name}: {target}"


YAML_EXAMPLE = re.compile(r"^```yaml\n# (providers\.d/[\w.-]+\.yaml)\n(.*?)^```$", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_yaml_examples_named_after_a_file_validate(page: Path, tmp_path: Path) -> None:
    for name, body in YAML_EXAMPLE.findall(page.read_text(encoding="utf-8")):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
        compilation = compile_paths(str(target))
        assert compilation.ok, (page.name, name, compilation.diagnostics)
        assert not [d for d in compilation.reported if d.severity.value == "warning"]
        target.unlink()
