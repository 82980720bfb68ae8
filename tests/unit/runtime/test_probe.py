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
            provider("good", "openai-completions", f"{server.url}/v1"),
            provider("claude", "anthropic-messages", server.url),
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
    assert "/v1/models" in paths
    assert "/v1/models" in [r.path for r in server.requests if "x-api-key" in r.headers]
    good = next(p for p in report["providers"] if p["provider"] == "good")
    assert good["latency_ms"] is not None


def test_probe_exit_0_when_all_answer(server: Loopback, tmp_path: Path) -> None:
    write_files(
        tmp_path, {"providers.d/p.yaml": provider("good", "openai-completions", server.url)}
    )
    result = run_cli("probe", cwd=tmp_path, env={"PROBE_KEY": KEY})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1/1 providers ok" in result.stdout
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
