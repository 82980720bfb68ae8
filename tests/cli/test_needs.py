"""``flue-decl needs``: what a deployer must provide, from the effective tree, in every
format as the tool that reads it would read it (a .env parser, a YAML loader)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import run_cli, write_files


def tree(root: Path) -> list[str]:
    write_files(
        root,
        {
            "base.d/p.yaml": """
            kind: Provider
            id: p
            api: openai-completions
            baseUrl: "{{ env.P_URL | default('https://p.example.com/v1') }}"
            apiKey: "{{ env.P_KEY }}"
            headers:
              X-Team: "{{ env.TEAM }}"
              X-Region: "{{ env.REGION | default('eu') }}"
              Authorization: "Bearer {{ secret['p-token'] }}"
            models:
              m: {maxTokens: 1}
            """,
            "base.d/anthropic.yaml": """
            kind: ProviderConfiguration
            id: anthropic
            baseUrl: "https://gateway.example.com/{{ env.GATEWAY_PATH }}"
            """,
            "prod.d/p.yaml": """
            kind: Provider
            id: p
            overlay: true
            headers:
              X-Team: search
            """,
        },
    )
    return [str(root / "base.d"), str(root / "prod.d")]


def needs(paths: list[str], *extra: str, env: dict[str, str] | None = None) -> Any:
    result = run_cli("needs", "--isolated", *paths, *extra, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_json_lists_what_the_effective_tree_reads(tmp_path: Path) -> None:
    found = json.loads(needs(tree(tmp_path), "--format", "json"))
    env = {e["name"]: e for e in found["env"]}
    # TEAM was replaced by the overlay: not needed. P_URL and REGION have defaults.
    assert sorted(env) == [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_OAUTH_TOKEN",
        "GATEWAY_PATH",
        "P_KEY",
        "P_URL",
        "REGION",
    ]
    assert env["P_KEY"] == {
        "name": "P_KEY",
        "providers": ["p"],
        "required": True,
        "credential": True,
        "builtin": False,
    }
    assert (env["P_URL"]["required"], env["P_URL"]["credential"]) == (False, False)
    assert env["GATEWAY_PATH"]["required"] is True
    # anthropic is configured without apiKey: the runtime reads both of its variables.
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_OAUTH_TOKEN"):
        assert env[name] == {
            "name": name,
            "providers": ["anthropic"],
            "required": False,
            "credential": True,
            "builtin": True,
        }
    assert found["secrets"] == [
        {"name": "p-token", "providers": ["p"], "required": True, "credential": True}
    ]


def test_one_providers_needs_are_only_its_own(tmp_path: Path) -> None:
    found = json.loads(needs(tree(tmp_path), "--provider", "anthropic", "--format", "json"))
    assert [e["name"] for e in found["env"]] == [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_OAUTH_TOKEN",
        "GATEWAY_PATH",
    ]
    assert found["secrets"] == []


def test_dotenv_reads_back_as_every_variable_unset(tmp_path: Path) -> None:
    text = needs(tree(tmp_path), "--format", "dotenv")
    names: list[str] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        assert (equals, value) == ("=", "")
        names.append(name)
    assert names == sorted(names)
    assert "P_KEY" in names
    assert "TEAM" not in names
    assert "# required, credential; for p" in text


def test_k8s_is_a_containers_env_and_the_secret_volume(tmp_path: Path) -> None:
    text = needs(
        tree(tmp_path),
        "--format",
        "k8s",
        "--k8s-secret",
        "llm-keys",
        env={"FLUE_DECL_SECRETS_DIR": "/etc/llm-secrets"},
    )
    spec = yaml.safe_load(text)
    assert set(spec) == {"env", "volumes", "volumeMounts"}
    by_name = {e["name"]: e["valueFrom"] for e in spec["env"] if "valueFrom" in e}
    assert {"name": "FLUE_DECL_SECRETS_DIR", "value": "/etc/llm-secrets"} in spec["env"]
    assert by_name["P_KEY"] == {"secretKeyRef": {"name": "llm-keys", "key": "P_KEY"}}
    assert by_name["P_URL"] == {
        "configMapKeyRef": {"name": "flue-decl", "key": "P_URL", "optional": True}
    }
    assert by_name["ANTHROPIC_API_KEY"]["secretKeyRef"]["optional"] is True
    for entry in spec["env"]:  # a Container's EnvVar: name, and a value or one source
        if "value" in entry:
            continue
        assert set(entry) == {"name", "valueFrom"}
        (source,) = entry["valueFrom"].values()
        assert set(source) <= {"name", "key", "optional"}
    assert spec["volumes"] == [{"name": "flue-decl-secrets", "secret": {"secretName": "llm-keys"}}]
    assert spec["volumeMounts"] == [
        {"name": "flue-decl-secrets", "mountPath": "/etc/llm-secrets", "readOnly": True}
    ]


def test_a_tree_with_errors_is_exit_1_and_warnings_do_not_matter(tmp_path: Path) -> None:
    write_files(tmp_path, {"p.yaml": "kind: Provider\nid: p\napi: [wrong]\n"})
    result = run_cli("needs", "--isolated", str(tmp_path))
    assert result.returncode == 1
    assert "p.yaml:3" in result.stderr


def test_what_each_variable_needs_is_judged_with_nothing_set(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "p.yaml": """
            kind: Provider
            id: p
            api: openai-completions
            baseUrl: "{{ env.URL_A | default(env.URL_B) }}?key={{ env.GW_QK }}"
            apiKey: "{{ env.K1 if env.K1 is defined else env.K2 }}"
            headers:
              X-Opt: "{{ env.HC if env.GATE is defined else 'none' }}"
            models:
              m: {maxTokens: 1}
            """
        },
    )
    env = {e["name"]: e for e in json.loads(needs([str(tmp_path)], "--format", "json"))["env"]}
    required = {name for name, e in env.items() if e["required"]}
    # A fallback's own variable is required; the one it falls back from is not; one read
    # only when another is set is not.
    assert required == {"URL_B", "GW_QK", "K2"}, env
    # A key in the baseUrl's query is a credential, as masking has it: from the Secret.
    assert env["GW_QK"]["credential"] is True


def test_names_no_container_or_shell_can_have_are_said_not_emitted(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "p.yaml": """
            kind: Provider
            id: p
            api: openai-completions
            baseUrl: "https://p.example.com/{{ env['x=y'] }}/{{ env['##[warning]hi'] }}"
            apiKey: "{{ env.OK_KEY }}"
            models:
              m: {maxTokens: 1}
            """
        },
    )
    paths = [str(tmp_path)]
    k8s = needs(paths, "--format", "k8s")
    spec = yaml.safe_load(k8s)
    assert [e["name"] for e in spec["env"]] == ["OK_KEY"]
    for text in (k8s, needs(paths, "--format", "dotenv"), needs(paths, "--format", "json")):
        assert "##[" not in text
        assert not any(line.startswith("::") for line in text.splitlines())
    assert json.loads(needs(paths, "--format", "json"))["env"][0]["name"] == "##[warning]hi"


def test_dotenv_comments_out_what_has_a_default(tmp_path: Path) -> None:
    # Set empty, an optional variable would replace its default: it stays commented out.
    text = needs(tree(tmp_path), "--format", "dotenv")
    assert "\nP_KEY=\n" in f"\n{text}\n"
    assert "# P_URL=" in text
    assert "\nP_URL=" not in text


def test_the_runtimes_own_variables_for_sdk_credentials_and_a_named_builtin(
    tmp_path: Path,
) -> None:
    write_files(
        tmp_path,
        {
            "c.yaml": """
            kind: ProviderConfiguration
            id: amazon-bedrock
            headers: {X-Team: search}
            """
        },
    )
    found = json.loads(needs([str(tmp_path)], "--format", "json"))
    names = {e["name"] for e in found["env"]}
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"} <= names
    mistral = json.loads(needs([str(tmp_path)], "--provider", "mistral", "--format", "json"))
    assert [e["name"] for e in mistral["env"]] == ["MISTRAL_API_KEY"]


def test_k8s_sets_the_secrets_directory_the_mount_is_at(tmp_path: Path) -> None:
    paths = tree(tmp_path)
    spec = yaml.safe_load(
        needs(paths, "--format", "k8s", env={"FLUE_DECL_SECRETS_DIR": "/etc/llm"})
    )
    assert {"name": "FLUE_DECL_SECRETS_DIR", "value": "/etc/llm"} in spec["env"]
    relative = run_cli(
        "needs", "--isolated", *paths, "--format", "k8s", env={"FLUE_DECL_SECRETS_DIR": "sec"}
    )
    assert relative.returncode == 2
    assert "relative" in relative.stderr
