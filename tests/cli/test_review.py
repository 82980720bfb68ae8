"""A reviewer without the production secrets: explain, list and models work with every
variable unset, showing templates (masked where credential); resolve and check-env keep
needing the values and name every one that is missing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli, write_files

TREE = {
    "p.yaml": """
    kind: Provider
    id: p
    api: openai-completions
    baseUrl: "https://{{ env.P_HOST }}/{{ env.P_SET }}/v1"
    apiKey: "{{ env.P_KEY }}"
    headers:
      X-Team: "{{ env.TEAM }}"
      Authorization: "Bearer {{ secret['p-token'] }}"
    models:
      m: {maxTokens: 7}
    """,
}


def test_explain_shows_unset_fields_as_their_templates(tmp_path: Path) -> None:
    write_files(tmp_path, TREE)
    env = {"FLUE_DECL_SECRETS_DIR": str(tmp_path / "no-secrets"), "P_SET": "set-CANARY"}
    result = run_cli("explain", "p/m", str(tmp_path), "--isolated", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    rows = {r["field"]: r for r in json.loads(result.stdout)["fields"]}
    assert rows["baseUrl"]["value"] == "https://{{ env.P_HOST }}/{{ env.P_SET }}/v1"
    assert "unset here (P_HOST)" in rows["baseUrl"]["source"]  # not P_SET, which is set
    assert "CANARY" not in result.stdout
    assert rows["headers.X-Team"]["value"] == "{{ env.TEAM }}"
    # Credentials stay masked, template or not, and say where they would come from.
    assert rows["apiKey"]["value"] == "***"
    assert "unset here (P_KEY)" in rows["apiKey"]["source"]
    assert rows["headers.Authorization"]["value"] == "***"
    assert "secret file p-token" in rows["headers.Authorization"]["source"]
    assert rows["maxTokens"]["value"] == 7
    assert rows["maxTokens"]["line"] == 10


def test_list_and_models_need_no_value(tmp_path: Path) -> None:
    write_files(tmp_path, TREE)
    listed = run_cli("list", "--isolated", str(tmp_path), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert "{{ env.P_HOST }}" in listed.stdout
    modelled = run_cli("models", "--isolated", str(tmp_path), "--provider", "p")
    assert modelled.returncode == 0, modelled.stderr
    assert "p/m" in modelled.stdout


def test_resolve_and_check_env_name_every_unset_variable(tmp_path: Path) -> None:
    write_files(tmp_path, TREE)
    env = {"FLUE_DECL_SECRETS_DIR": str(tmp_path / "no-secrets")}
    for command in (["resolve", "p/m"], ["check-env", "--format=text"]):
        result = run_cli(*command, str(tmp_path), "--isolated", env=env)
        assert result.returncode == 1, (command, result.stderr)
        said = result.stdout + result.stderr  # check-env reports on stdout, resolve on stderr
        for name in ("P_HOST", "P_KEY", "TEAM", "p-token"):
            assert name in said, (command, name, said)


def test_c1_and_bidirectional_controls_from_a_file_are_shown_escaped(tmp_path: Path) -> None:
    # U+202E reverses what follows on a terminal or a review page; U+009B is a C1 CSI.
    write_files(
        tmp_path,
        {
            "p.yaml": """
            kind: Provider
            id: p
            api: openai-completions
            baseUrl: https://p.example.com/v1
            apiKey: ""
            headers: {X-Note: "a\\u202eb\\u2066c\\x9bd"}
            models:
              m: {maxTokens: 7}
            """
        },
    )
    for command in (["explain", "p/m"], ["list"]):
        result = run_cli(*command, str(tmp_path), "--isolated")
        assert result.returncode == 0, result.stderr
        for raw in ("\u202e", "\u2066", "\x9b"):
            assert raw not in result.stdout, (command, result.stdout)
        assert "\\u202e" in result.stdout or command == ["list"], result.stdout
