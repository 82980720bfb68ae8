"""The command line with a settings file: found from where the user stands, overridden by
options, shown by ``flue-decl settings``, never hidden by the validation cache."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from flue_decl.cli._args import Args
from flue_decl.cli._main import COMMANDS
from flue_decl.cli._parser import build_parser, parse
from tests.helpers import run_cli, write_files

PROVIDER = """\
kind: Provider
id: local
api: openai-completions
baseUrl: http://localhost:11434/v1
contextWindow: 100
maxTokens: 200
"""


def project(root: Path, settings: str) -> Path:
    write_files(
        root,
        {
            ".git/HEAD": "",
            "flue-decl.toml": settings,
            "deploy/providers/10-local.yaml": PROVIDER,
            "src/pkg/__init__.py": "",
        },
    )
    return root


def test_every_command_takes_settings_and_isolated() -> None:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) == set(COMMANDS)
    for name, command in sub.choices.items():
        options = {o for action in command._actions for o in action.option_strings}
        assert {"--settings", "--isolated"} <= options, name


def test_every_option_of_every_command_is_a_typed_field_of_args() -> None:
    fields = {f.name for f in dataclasses.fields(Args)}
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, command in sub.choices.items():
        dests = {a.dest for a in command._actions if a.dest != "help"}
        assert dests <= fields, (name, dests - fields)
    parsed = parse(["explain", "openai/gpt-4o", "--format", "json"])
    assert isinstance(parsed, Args)
    assert (parsed.command, parsed.spec, parsed.format) == ("explain", "openai/gpt-4o", "json")


def test_settings_are_found_from_a_subdirectory_and_options_win(tmp_path: Path) -> None:
    root = project(tmp_path, 'paths = ["deploy/providers"]\nstrict = true\n')
    failed = run_cli("validate", cwd=root / "src" / "pkg")
    assert failed.returncode == 1  # strict: the maxTokens warning fails
    assert "../../deploy/providers/10-local.yaml:6:12: warning" in failed.stdout
    shown = json.loads(run_cli("settings", "--format", "json", cwd=root / "src").stdout)
    assert shown["settings"]["paths"] == ["../deploy/providers"]
    assert shown["sources"]["paths"] == "../flue-decl.toml:1"
    overridden = run_cli("settings", "--format", "json", "deploy", cwd=root)
    assert json.loads(overridden.stdout)["sources"]["paths"] == "command line"
    text = run_cli("settings", cwd=root).stdout.splitlines()
    assert text[0] == "settings file: flue-decl.toml"
    assert any(line.split()[:2] == ["strict", "true"] for line in text)


def test_format_and_ignore_from_the_file(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'paths = ["deploy/providers"]\nstrict = true\nformat = "json"\n'
        'ignore = ["max-tokens-exceeds-context"]\n',
    )
    done = run_cli("validate", cwd=root)
    assert done.returncode == 0, done.stdout
    (diag,) = json.loads(done.stdout)["diagnostics"]
    assert (diag["code"], diag["suppressed"]) == ("max-tokens-exceeds-context", True)
    sarif = json.loads(run_cli("validate", "--format", "sarif", cwd=root).stdout)
    (result,) = sarif["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "external"}]
    assert run_cli("validate", "--format", "text", cwd=root).stdout == (
        "ok: 1 file checked, no problems (1 suppressed)\n"
    )


def test_a_settings_change_is_never_hidden_by_the_cache(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'paths = ["deploy/providers"]\nstrict = true\nignore = ["max-tokens-exceeds-context"]\n',
    )
    env = {"FLUE_DECL_CACHE_DIR": str(tmp_path / "cache")}
    assert run_cli("validate", cwd=root, env=env).returncode == 0
    assert run_cli("validate", cwd=root, env=env).returncode == 0  # from the cache
    (root / "flue-decl.toml").write_text('paths = ["deploy/providers"]\nstrict = true\n')
    assert run_cli("validate", cwd=root, env=env).returncode == 1
    # The same settings read from another directory: patterns mean other files there.
    (root / "flue-decl.toml").write_text(
        'paths = ["deploy/providers"]\nstrict = true\n'
        '[per-file-ignores]\n"deploy/*" = ["max-tokens-exceeds-context"]\n'
    )
    assert run_cli("validate", cwd=root, env=env).returncode == 0
    assert run_cli("validate", "--isolated", "deploy/providers", cwd=root, env=env).returncode == 0
    assert (
        run_cli(
            "validate", "--isolated", "--strict", "deploy/providers", cwd=root, env=env
        ).returncode
        == 1
    )


def test_a_bad_settings_file_is_exit_2_at_its_line(tmp_path: Path) -> None:
    root = project(tmp_path, 'paths = ["deploy/providers"]\nignore = ["unknown-key"]\n')
    for command in ("validate", "list", "settings", "check-env"):
        done = run_cli(command, cwd=root)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "flue-decl.toml:2:1: error[invalid-settings]" in done.stderr
        assert "`unknown-key` is an error and cannot be ignored" in done.stderr
        assert "Traceback" not in done.stderr
    # --isolated ignores it, --settings names another
    assert run_cli("validate", "--isolated", "deploy/providers", cwd=root).returncode == 0
    (root / "other.toml").write_text('paths = ["deploy/providers"]\n')
    assert run_cli("validate", "--settings", "other.toml", cwd=root).returncode == 0
    missing = run_cli("validate", "--settings", "nope.toml", cwd=root)
    assert missing.returncode == 2
    assert "no such settings file: nope.toml" in missing.stderr


def test_secrets_dir_and_handler_modules_from_the_file(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'paths = ["deploy/providers"]\nsecrets-dir = "dev-secrets"\n'
        'handler-modules = ["nothing_allowed_here"]\n',
    )
    (root / "deploy/providers/10-local.yaml").write_text(
        PROVIDER + 'apiKey: "{{ secret.local_key }}"\n'
    )
    (root / "deploy/providers/20-rpc.yaml").write_text(
        "kind: ApiProvider\napi: acme-rpc\nhandler: acme_llm.protocols:AcmeRpc\n"
    )
    missing = run_cli("check-env", cwd=root)
    assert missing.returncode == 1
    assert "local_key" in missing.stdout
    (root / "dev-secrets").mkdir()
    (root / "dev-secrets" / "local_key").write_text("k-dev\n")
    assert run_cli("check-env", cwd=root).returncode == 0
    refused = run_cli("check-handlers", cwd=root)
    assert refused.returncode == 1
    assert "error[handler-not-allowed]" in refused.stdout


def test_odd_settings_files_are_refused_without_hanging(tmp_path: Path) -> None:
    root = project(tmp_path, 'paths = ["deploy/providers"]\n')
    fifo = root / "fifo.toml"
    os.mkfifo(fifo)
    (root / "dir.toml").mkdir()
    (root / "big.toml").write_text("# x\n" * 300_000)
    (root / "latin1.toml").write_bytes(b"# caf\xe9\n")
    for name, said in (
        ("fifo.toml", "not a regular file"),
        ("dir.toml", "not a regular file"),
        ("big.toml", "is larger than 1048576 bytes"),
        ("latin1.toml", "is not UTF-8 text"),
    ):
        done = run_cli("validate", "--settings", name, cwd=root, timeout=30)
        assert done.returncode == 2, (name, done.stderr)
        assert said in done.stderr, (name, done.stderr)
    # A settings file found on the walk that is a FIFO is not a file: not read, no hang.
    (root / "flue-decl.toml").unlink()
    os.mkfifo(root / "flue-decl.toml")
    assert run_cli("validate", "deploy/providers", cwd=root, timeout=30).returncode == 0


def test_a_removed_working_directory_is_no_traceback(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = (
        "import os, sys\n"
        f"os.chdir({str(gone)!r}); os.rmdir({str(gone)!r})\n"
        "from flue_decl.cli import main\n"
        "sys.exit(main(['validate']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr


def test_without_paths_the_providers_d_beside_the_file_is_read(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {".git/HEAD": "", "flue-decl.toml": "strict = true\n", "providers.d/a.yaml": PROVIDER},
    )
    (tmp_path / "sub").mkdir()
    done = run_cli("validate", cwd=tmp_path / "sub")
    assert done.returncode == 1  # the strict warning of ../providers.d/a.yaml
    assert done.stdout.startswith("../providers.d/a.yaml:6:12: warning[max-tokens")
    assert run_cli("validate", "--no-strict", cwd=tmp_path / "sub").returncode == 0


def test_a_found_file_everyone_may_write_is_not_used(tmp_path: Path) -> None:
    root = project(tmp_path, 'paths = ["nowhere"]\n')
    (root / "flue-decl.toml").chmod(0o666)
    done = run_cli("validate", "deploy/providers", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not using the settings file flue-decl.toml: it is writable by every user" in (
        done.stderr
    )
    named = run_cli("validate", "--settings", "flue-decl.toml", cwd=root)
    assert named.returncode == 2  # named: used, and its path does not exist
    # Not used at all, not merely overridden by the path given above.
    shown = json.loads(run_cli("settings", "--format", "json", cwd=root).stdout)
    assert shown["sources"]["paths"] == "default"
    assert shown["settings"]["paths"] == ["providers.d"]


def test_values_in_the_settings_file_are_masked_and_inert(tmp_path: Path) -> None:
    root = project(tmp_path, 'token = "hunter2hunter2hunter2"\n')
    done = run_cli("validate", cwd=root)
    assert done.returncode == 2
    assert "hunter2" not in done.stderr
    (root / "flue-decl.toml").write_text(
        'paths = ["::error file=README.md::forged"]\nstrict = ' + "[" * 900 + "]" * 900 + "\n"
    )
    deep = run_cli("schema", cwd=root)  # every command reads the settings first
    assert deep.returncode == 2
    assert "nested too deeply" in deep.stderr
    (root / "flue-decl.toml").write_text('paths = ["::error file=README.md::forged"]\n')
    forged = run_cli("compile", cwd=root, env={"GITHUB_ACTIONS": "true"})
    assert forged.returncode == 2
    assert not [line for line in forged.stderr.splitlines() if line.startswith("::")]


def test_after_double_dash_every_argument_of_resolve_is_a_specifier(tmp_path: Path) -> None:
    (tmp_path / "foo.json").write_text("{}")
    given = ["resolve", "openai/gpt-4o", str(tmp_path), "--", str(tmp_path / "foo.json")]
    parsed = parse(given)
    assert parsed.paths == [str(tmp_path)]
    assert parsed.specs == ["openai/gpt-4o", str(tmp_path / "foo.json")]
    plain = parse(["resolve", "openai/gpt-4o", str(tmp_path / "foo.json")])
    assert plain.paths == [str(tmp_path / "foo.json")]  # without --, what exists is a path
