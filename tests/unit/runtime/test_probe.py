"""flue-decl probe against real servers on 127.0.0.1 (and a closed port)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_files
from tests.loopback import Loopback, loopback_server

KEY = "sk-probe-0123456789abcdefABCDEF"


@pytest.fixture
def server() -> Iterator[Loopback]:
    with loopback_server() as state:
        yield state


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def provider(pid: str, api: str, base: str) -> str:
    return (
        f"---\nkind: Provider\nid: {pid}\napi: {api}\nbaseUrl: {base}\n"
        'apiKey: "{{ env.PROBE_KEY }}"\n'
    )


def test_probe_reports_each_provider(server: Loopback, tmp_path: Path) -> None:
    tree = "".join(
        [
            provider("good", "openai-completions", f"{server.url}/keyed/v1"),
            provider("claude", "anthropic-messages", f"{server.url}/keyed"),
            provider("denied", "openai-completions", f"{server.url}/unauthorized"),
            provider("gone", "mistral-conversations", f"{server.url}/missing"),
            provider("down", "openai-completions", f"http://127.0.0.1:{closed_port()}"),
            provider("slow", "openai-completions", f"{server.url}/slow"),
            "---\nkind: Provider\nid: cf\napi: cloudflare-ai-binding\nbinding: AI\n",
        ]
    )
    write_files(tmp_path, {"providers.d/p.yaml": tree})
    result = run_cli(
        "probe", "--timeout", "0.5", "--format", "json", cwd=tmp_path, env={"PROBE_KEY": KEY}
    )
    assert result.returncode == 1, result.stderr
    assert KEY not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    status = {p["provider"]: p["status"] for p in report["providers"]}
    assert status == {
        "good": "ok",
        "claude": "ok",
        "denied": "auth-rejected",
        "gone": "not-found",
        "down": "unreachable",
        "slow": "timeout",
        "cf": "skipped",
    }
    assert report["ok"] is False
    paths = sorted(r.path for r in server.requests)
    assert "/keyed/v1/models" in paths
    assert "/keyed/v1/models" in [r.path for r in server.requests if "x-api-key" in r.headers]
    assert {p["note"] for p in report["providers"]} == {None}  # every 200 checked the key
    good = next(p for p in report["providers"] if p["provider"] == "good")
    assert good["latency_ms"] is not None


def test_probe_exit_0_when_all_answer(server: Loopback, tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "providers.d/p.yaml": provider("good", "openai-completions", f"{server.url}/keyed")
            + provider("open", "openai-completions", server.url)  # a listing anyone may read
            # Nothing to probe over HTTP: skipped, and neither ok nor a failure.
            + "---\nkind: ProviderConfiguration\nid: amazon-bedrock\n"
            + "---\nkind: ProviderConfiguration\nid: google-vertex\n"
        },
    )
    result = run_cli("probe", cwd=tmp_path, env={"PROBE_KEY": KEY})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "2/2 probed providers ok (1 without checking the key), 2 skipped"
    assert "answers without a key too: the key was not checked" in lines[1]
    assert "Bedrock: requests are SigV4-signed" in lines[2]
    assert "Vertex AI:" in lines[3]
    assert not any("probe_path" in line or "bedrock/" in line for line in lines)
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    report = json.loads(
        run_cli("probe", "--format", "json", cwd=tmp_path, env={"PROBE_KEY": KEY}).stdout
    )
    notes = {p["provider"]: p["note"] for p in report["providers"]}
    assert notes["open"] == "unauthenticated-endpoint"
    assert notes["good"] is None


def test_a_redirect_to_another_origin_is_its_own_status(server: Loopback, tmp_path: Path) -> None:
    with loopback_server() as elsewhere:
        server.redirect_to = f"{elsewhere.url}/v1/models"
        write_files(
            tmp_path,
            {
                "providers.d/p.yaml": provider(
                    "moved", "openai-completions", f"{server.url}/redirect-away"
                )
            },
        )
        result = run_cli("probe", "--format", "json", cwd=tmp_path, env={"PROBE_KEY": KEY})
        assert not elsewhere.requests  # the key never went there
    assert result.returncode == 1
    (moved,) = json.loads(result.stdout)["providers"]
    assert moved["status"] == "redirected"
    assert elsewhere.url in moved["detail"]


def test_probe_timeout_is_checked_by_the_parser(tmp_path: Path) -> None:
    for bad in ("nan", "inf", "0", "-1", "soon"):
        result = run_cli("probe", "--timeout", bad, cwd=tmp_path)
        assert result.returncode == 2
        assert "--timeout" in result.stderr


def test_a_base_url_from_a_secret_is_never_printed(server: Loopback, tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "providers.d/p.yaml": "kind: Provider\nid: t\napi: openai-completions\n"
            f'baseUrl: "{server.url}/keyed/{{{{ env.TENANT_SECRET }}}}/v1"\n'
            'apiKey: "{{ env.PROBE_KEY }}"\n'
        },
    )
    env = {"PROBE_KEY": KEY, "TENANT_SECRET": "TENANTVALUE444"}
    for fmt in ("text", "json"):
        result = run_cli("probe", "--format", fmt, cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "TENANTVALUE444" not in result.stdout + result.stderr
    assert server.requests[0].path == "/keyed/TENANTVALUE444/v1/models"


CUSTOM_PROTOCOL = '''
class Rpc:
    probe_path = "keyed/v1/models"

    @staticmethod
    def auth_headers(api_key):
        return {"Authorization": f"Bearer {api_key}"}
'''


@pytest.mark.parametrize("how", ["option", "environment", "settings"])
def test_probe_speaks_a_custom_protocol_through_its_allowed_handler(
    server: Loopback, tmp_path: Path, how: str
) -> None:
    """A custom wire protocol is probed through its handler, imported as a service imports
    it: from the modules --handler-modules, FLUE_DECL_HANDLER_MODULES or the settings
    file allow; without any, it is skipped and the report says how to allow it."""
    write_files(
        tmp_path,
        {
            "lib/rpc_protocols.py": CUSTOM_PROTOCOL,
            "providers.d/p.yaml": "kind: ApiProvider\napi: my-rpc\nhandler: rpc_protocols:Rpc\n"
            + provider("rpc", "my-rpc", f"{server.url}"),
        },
    )
    env = {"PROBE_KEY": KEY, "PYTHONPATH": str(tmp_path / "lib")}
    skipped = run_cli("probe", "--format", "json", cwd=tmp_path, env=env)
    assert skipped.returncode == 0, skipped.stderr
    (report,) = json.loads(skipped.stdout)["providers"]
    assert report["status"] == "skipped"
    assert "--handler-modules" in report["detail"]
    assert server.requests == []
    args: tuple[str, ...] = ()
    if how == "option":
        args = ("--handler-modules", "rpc_protocols")
    elif how == "environment":
        env["FLUE_DECL_HANDLER_MODULES"] = "rpc_protocols"
    else:
        (tmp_path / "flue-decl.toml").write_text('handler-modules = ["rpc_protocols"]\n')
    result = run_cli("probe", *args, "--format", "json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    (report,) = json.loads(result.stdout)["providers"]
    assert report["status"] == "ok"
    keyed = [r for r in server.requests if "authorization" in r.headers]
    assert [(r.path, r.headers["authorization"]) for r in keyed] == [
        ("/keyed/v1/models", f"Bearer {KEY}")
    ]
