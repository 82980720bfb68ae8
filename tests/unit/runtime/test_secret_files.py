"""``{{ secret.NAME }}``: keys from mounted secret files, rotated without a restart."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from flue_decl import TemplateError, compile_paths, load_registry, watch
from tests.helpers import run_cli, write_files

TREE = """
kind: Provider
id: p
api: openai-completions
baseUrl: https://p.example/v1
apiKey: "{{ secret.p_key }}"
headers:
  X-Team: "{{ secret['team-name'] | default('search') }}"
"""


def _k8s_secret(root: Path, files: dict[str, str], version: int) -> Path:
    """A Kubernetes Secret volume: NAME -> ..data/NAME, ..data -> ..<version>/."""
    mount = root / "secrets"
    data = mount / f"..v{version}"
    data.mkdir(parents=True)
    for name, content in files.items():
        (data / name).write_text(content)
    link = mount / "..data_tmp"
    link.symlink_to(data.name)
    os.replace(link, mount / "..data")  # the atomic swap kubelet does
    for name in files:
        if not (mount / name).is_symlink():
            (mount / name).symlink_to(f"..data/{name}")
    return mount


def test_a_key_read_from_a_secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(tmp_path, {"tree/p.yaml": TREE, "secrets/p_key": "sk-from-file-1\n"})
    registry = load_registry([str(tmp_path / "tree")], env={}, secrets_dir=tmp_path / "secrets")
    assert registry.api_key("p/m") == "sk-from-file-1"  # one trailing newline stripped
    assert registry.resolve_model("p/m").headers == {"X-Team": "search"}
    monkeypatch.setenv("FLUE_DECL_SECRETS_DIR", str(tmp_path / "secrets"))
    assert load_registry([str(tmp_path / "tree")], env={}).api_key("p/m") == "sk-from-file-1"


def test_a_missing_secret_is_reported_like_a_missing_variable(tmp_path: Path) -> None:
    write_files(tmp_path, {"tree/p.yaml": TREE, "elsewhere/p_key": "sk-outside"})
    (tmp_path / "secrets").mkdir()
    with pytest.raises(TemplateError) as info:
        load_registry([str(tmp_path / "tree")], env={}, secrets_dir=tmp_path / "secrets")
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.line) == ("missing-env", 5)
    assert "secret `p_key` cannot be read: there is no file `p_key`" in diag.message
    # A link that leads out of the directory is not read.
    (tmp_path / "secrets" / "p_key").symlink_to(tmp_path / "elsewhere" / "p_key")
    with pytest.raises(TemplateError, match="links outside it"):
        load_registry([str(tmp_path / "tree")], env={}, secrets_dir=tmp_path / "secrets")
    (tmp_path / "secrets" / "p_key").unlink()
    (tmp_path / "secrets" / "p_key").write_bytes(b"x" * 70_000)
    with pytest.raises(TemplateError, match="larger than"):
        load_registry([str(tmp_path / "tree")], env={}, secrets_dir=tmp_path / "secrets")
    result = run_cli(
        "check-env",
        "tree",
        "--format",
        "json",
        cwd=tmp_path,
        env={"FLUE_DECL_SECRETS_DIR": str(tmp_path / "secrets")},
    )
    assert result.returncode == 1
    assert "secret `p_key`" in result.stdout
    assert "xxxx" not in result.stdout


def test_secret_names_are_file_names(tmp_path: Path) -> None:
    write_files(tmp_path, {"tree/p.yaml": TREE.replace("secret.p_key", "secret['../p_key']")})
    codes = [d.code for d in compile_paths([str(tmp_path / "tree")]).diagnostics]
    assert codes == ["template-not-allowed"]


def test_a_value_from_a_secret_file_is_masked(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "tree/p.yaml": TREE.replace("'team-name'", "'session'"),
            "secrets/p_key": "sk-from-file-2",
            "secrets/session": "SESSION-CANARY-77",
        },
    )
    env = {"FLUE_DECL_SECRETS_DIR": str(tmp_path / "secrets")}
    for command in (["explain", "p/m"], ["resolve", "p/m"], ["calls"], ["list"]):
        result = run_cli(
            *command,
            "-c" if command[0] in ("explain", "resolve") else "tree",
            *(["tree"] if command[0] in ("explain", "resolve") else []),
            cwd=tmp_path,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert "CANARY" not in result.stdout + result.stderr
        assert "sk-from-file" not in result.stdout + result.stderr


def test_watch_swaps_in_a_rotated_key(tmp_path: Path) -> None:
    write_files(tmp_path, {"tree/p.yaml": TREE})
    mount = _k8s_secret(tmp_path, {"p_key": "sk-old\n"}, 1)
    with watch([str(tmp_path / "tree")], env={}, secrets_dir=mount, interval=0.05) as live:
        assert live.registry.api_key("p/m") == "sk-old"
        _k8s_secret(tmp_path, {"p_key": "sk-new\n"}, 2)  # kubelet's rotation
        deadline = time.monotonic() + 20  # a hang guard, not a speed assertion
        while live.generation < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert live.registry.api_key("p/m") == "sk-new"
        assert live.last_reload_ok


def test_a_secret_after_a_missing_variable_is_still_read(tmp_path: Path) -> None:
    from flue_decl.templates import Namespace, render

    found = render("{{ env.PREFIX | lower }}{{ secret.tok }}", Namespace({}, {"tok": "t"}))
    assert found.missing == ("PREFIX",)  # the secret is there: not reported missing
    (tmp_path / "secrets").mkdir()
    os.mkfifo(tmp_path / "secrets" / "p_key")
    write_files(tmp_path, {"tree/p.yaml": TREE})
    with pytest.raises(TemplateError, match="is not a regular file"):
        load_registry([str(tmp_path / "tree")], env={}, secrets_dir=tmp_path / "secrets")
