"""diff OLD NEW through the command line, on copies of the bundled examples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, run_cli, write_files

SECRET_A, SECRET_B = "sk-proj-AAAAAAAAAAAAAAAAAAAAAAAA", "sk-proj-BBBBBBBBBBBBBBBBBBBBBBBB"


@pytest.fixture
def changed(tmp_path: Path) -> Path:
    new = tmp_path / "new.d"
    shutil.copytree(REPO / "providers.d", new)
    ollama = new / "10-ollama.yaml"
    ollama.write_text(
        ollama.read_text().replace(
            '"llama3.1:8b": {contextWindow: 131072}',
            '"llama3.1:8b": {contextWindow: 65536}\n  "mistral:7b": {contextWindow: 32768}',
        )
    )
    gateway = new / "20-anthropic-gateway.yaml"
    gateway.write_text(
        gateway.read_text().replace(
            "default('https://api.anthropic.com')", "default('https://gw.example.com/anthropic')"
        )
    )
    (new / "60-cloudflare.yaml").unlink()
    return new


def test_equal_trees_exit_0() -> None:
    result = run_cli("diff", "providers.d", "providers.d")
    assert (result.returncode, result.stdout.strip()) == (0, "no effective change")


def test_text_diff_groups_a_providers_models(changed: Path) -> None:
    result = run_cli("diff", "providers.d", str(changed))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "- provider cloudflare",
        "+ ollama/mistral:7b",
        "- cloudflare/*",
        "~ ollama/llama3.1:8b",
        "    contextWindow: 131072 → 65536",
        "~ anthropic (25 models)",
        "    baseUrl: \"{{ env.ANTHROPIC_GATEWAY_URL | default('https://api.anthropic.com') }}\" "
        "→ \"{{ env.ANTHROPIC_GATEWAY_URL | default('https://gw.example.com/anthropic') }}\"",
    ]


def test_artifact_against_tree_and_json_format(changed: Path, tmp_path: Path) -> None:
    artifact = tmp_path / "registry.json"
    assert run_cli("compile", "-o", str(artifact)).returncode == 0
    result = run_cli("diff", str(artifact), str(changed), "--format", "json")
    data = json.loads(result.stdout)
    assert data["equal"] is False
    assert data["providers"] == {"added": [], "removed": ["cloudflare"]}
    assert data["models"] == {"added": ["ollama/mistral:7b"], "removed": ["cloudflare/*"]}
    changes = {c["spec"]: c["changes"] for c in data["changed"]}
    assert changes["ollama/llama3.1:8b"] == {"contextWindow": {"old": 131072, "new": 65536}}
    assert len([s for s in changes if s.startswith("anthropic/")]) == 25
    same = run_cli("diff", str(artifact), "providers.d")
    assert same.returncode == 0


def test_markdown_for_a_pull_request(changed: Path) -> None:
    result = run_cli("diff", "providers.d", str(changed), "--format", "markdown")
    lines = result.stdout.splitlines()
    assert lines[0] == "### flue-decl: provider registry changes"
    assert "| `ollama/llama3.1:8b` | `contextWindow` | `131072` | `65536` |" in lines
    assert "**Models added:** `ollama/mistral:7b`" in lines


def test_secrets_are_not_shown_but_their_change_is(tmp_path: Path) -> None:
    body = """
        kind: Provider
        id: p
        api: openai-completions
        baseUrl: https://p.example
        apiKey: "{key}"
        headers: {{Authorization: "Bearer {key}", X-A: "{{{{ env.A }}}}"}}
    """
    write_files(
        tmp_path, {"a/p.yaml": body.format(key=SECRET_A), "b/p.yaml": body.format(key=SECRET_B)}
    )
    result = run_cli("diff", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "json")
    assert result.returncode == 1  # a changed key is a change, even though it is not shown
    assert SECRET_A not in result.stdout
    assert SECRET_B not in result.stdout
    changes = json.loads(result.stdout)["changed"][0]["changes"]
    assert changes["apiKey"] == {"old": "***", "new": "***"}
    assert changes["headers"] == {
        "old": {"Authorization": "***", "X-A": "{{ env.A }}"},
        "new": {"Authorization": "***", "X-A": "{{ env.A }}"},
    }
    assert run_cli("diff", str(tmp_path / "a"), str(tmp_path / "a")).returncode == 0
    write_files(tmp_path, {"c/p.yaml": body.format(key="{{ env.P_KEY }}")})
    moved = run_cli("diff", str(tmp_path / "a"), str(tmp_path / "c"))
    assert moved.returncode == 1
    assert 'apiKey: "***" → "{{ env.P_KEY }}"' in moved.stdout
    assert SECRET_A not in moved.stdout + moved.stderr


def test_unreadable_side_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    result = run_cli("diff", str(tmp_path / "bad.json"), "providers.d")
    assert result.returncode == 2
    assert "[artifact-invalid]" in result.stderr
    assert run_cli("diff", str(tmp_path / "missing.d"), "providers.d").returncode == 2
