"""Adopted as a user adopts it: flue-decl installed by real pip into a fresh virtual
environment outside this checkout (from the wheel, the sdist and a git URL), then run from
another git repository that keeps its own settings file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import REPO, git, snapshot_repository

PROVIDERS = """\
kind: Provider
id: ollama
api: openai-completions
baseUrl: http://localhost:11434/v1
contextWindow: 8192
models:
  "llama3.1:8b": {contextWindow: 131072}
"""
# A provider the service registers in its own code: valid only with known-providers.
INHOUSE = """\
kind: ProviderConfiguration
id: inhouse
headers: {X-Team: search}
"""
SETTINGS = """\
# the service's flue-decl settings
paths = ["config/providers.d"]
strict = true
known-providers = ["inhouse"]
"""


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FLUE_DECL_", "PYTHON"))}
    clean["FLUE_DECL_CACHE_DIR"] = os.environ["FLUE_DECL_CACHE_DIR"]
    return subprocess.run(
        argv,
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _venv(where: Path, requirement: str) -> Path:
    """A fresh virtual environment with ``requirement`` installed by pip; its bin directory."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120
    )
    python = where / "bin" / "python"
    # This environment's pip, installing into the new one: the same pip a user runs.
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    done = _run([*pip, requirement], cwd=where.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    return where / "bin"


def _service(root: Path) -> Path:
    """Another team's repository: its own settings file and configuration directory."""
    write = {
        "flue-decl.toml": SETTINGS,
        "config/providers.d/10-ollama.yaml": PROVIDERS,
        "config/providers.d/20-inhouse.yaml": INHOUSE,
        "src/app/__init__.py": "",
    }
    for rel, text in write.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q")
    return root


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "build", "--wheel", "--sdist", "--no-isolation"]
    built = subprocess.run(
        [*build, "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("flue_decl-*.whl")
    (sdist,) = out.glob("flue_decl-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_the_wheel_carries_schemas_catalog_and_types(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as zf:
        names = set(zf.namelist())
    for schema in sorted((REPO / "schemas").glob("*.json")):
        assert f"flue_decl/schemas/{schema.name}" in names
    assert {"flue_decl/_data/catalog.json", "flue_decl/py.typed"} <= names


def test_installed_wheel_runs_in_another_repository(
    dists: dict[str, Path], tmp_path: Path
) -> None:
    bin_dir = _venv(tmp_path / "venv", str(dists["wheel"]))
    service = _service(tmp_path / "service")
    flue = str(bin_dir / "flue-decl")

    # From a subdirectory: the settings are found at the repository's root.
    ok = _run([flue, "validate"], cwd=service / "src" / "app")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip() == "ok: 2 files checked, no problems"
    shown = json.loads(_run([flue, "settings", "--format", "json"], cwd=service).stdout)
    assert shown["settings"]["paths"] == ["config/providers.d"]
    assert shown["sources"]["paths"] == "flue-decl.toml:2"
    assert shown["sources"]["strict"] == "flue-decl.toml:3"
    # Without the settings: providers.d is missing here (exit 2), and `inhouse` is unknown.
    isolated = _run([flue, "validate", "--isolated"], cwd=service)
    assert isolated.returncode == 2, isolated.stdout
    bare = _run([flue, "validate", "--isolated", "config/providers.d"], cwd=service)
    assert bare.returncode == 1
    assert "error[unknown-provider]" in bare.stdout

    # The library: the settings only when given, the schemas from inside the package.
    probe = (
        "import sys, flue_decl, flue_decl._domain as d\n"
        "from flue_decl import load_registry\n"
        "r = load_registry(settings='flue-decl.toml')\n"
        "print(r.resolve_model('ollama/llama3.1:8b').context_window)\n"
        "r = load_registry('config/providers.d', known_providers=['inhouse'])\n"
        "print(r.resolve_model('ollama/other').context_window)\n"
        "print(d.schema_dir().startswith(sys.prefix))\n"
        # watch compiles in a child process: the installed package's, from this directory.
        "w = flue_decl.watch(settings='flue-decl.toml', env={}, interval=3600)\n"
        "print(w.registry.resolve_model('ollama/llama3.1:8b').context_window)\n"
    )
    lib = _run([str(bin_dir / "python"), "-c", probe], cwd=service)
    assert lib.stdout.split() == ["131072", "8192", "True", "131072"], lib.stderr
    needed = _run([flue, "needs", "--format", "json"], cwd=service)
    assert needed.returncode == 0, needed.stderr
    assert set(json.loads(needed.stdout)) == {"env", "secrets"}


def test_installed_sdist_refuses_a_run_that_checks_nothing(
    dists: dict[str, Path], tmp_path: Path
) -> None:
    bin_dir = _venv(tmp_path / "venv", str(dists["sdist"]))
    repo = tmp_path / "repo"
    (repo / "providers.d").mkdir(parents=True)
    (repo / "providers.d" / "README.md").write_text("configuration goes here\n")
    git(repo, "init", "-q")
    flue = str(bin_dir / "flue-decl")
    empty = _run([flue, "validate"], cwd=repo)
    assert empty.returncode == 1
    assert "error[no-documents]" in empty.stdout
    typo = _run([flue, "validate", "provders.d"], cwd=repo)
    assert typo.returncode == 2
    assert "error[input-not-found]" in typo.stdout + typo.stderr


def test_pip_installs_it_from_a_git_url(tmp_path: Path) -> None:
    source = tmp_path / "flue-decl"
    rev = snapshot_repository(source)
    bin_dir = _venv(tmp_path / "venv", f"flue-decl @ git+file://{source}@{rev}")
    work = tmp_path / "work"
    shutil.copytree(REPO / "providers.d", work / "providers.d")
    done = _run([str(bin_dir / "flue-decl"), "validate"], cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: ")
