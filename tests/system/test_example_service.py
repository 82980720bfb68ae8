"""The example service, started for real on loopback, against a real upstream on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, write_files
from tests.loopback import Loopback, loopback_server

KEY = "sk-service-0123456789abcdefABCDEF"


def provider(upstream: str, max_tokens: str) -> str:
    return (
        f"kind: Provider\nid: up\napi: openai-completions\nbaseUrl: {upstream}/v1\n"
        f'apiKey: "{{{{ env.UP_KEY }}}}"\nmaxTokens: {max_tokens}\n'
        "models:\n  small: {contextWindow: 4096}\n"
    )


def get(base: str, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(base + path, timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


@pytest.fixture
def upstream() -> Iterator[Loopback]:
    with loopback_server() as state:
        yield state


def wait_for(check: Any, what: str) -> None:
    deadline = time.monotonic() + 30  # a hang guard, not a speed assertion
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@contextmanager
def started(
    tree: Path, *, cwd: Path | None = None, pythonpath: Sequence[Path] = ()
) -> Iterator[str]:
    """The example service on loopback, serving ``tree``: yields its base URL."""
    env = {
        **os.environ,
        "FLUE_DECL_PATHS": str(tree),
        "PORT": "0",
        "WATCH_INTERVAL": "0.05",
        "UP_KEY": KEY,
        "PYTHONPATH": os.pathsep.join(map(str, [REPO, *pythonpath])),
    }
    env.pop("FLUE_DECL_HANDLER_MODULES", None)  # the service's own list decides
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "examples" / "service" / "app.py")],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield line.split()[-1]
        assert proc.poll() is None  # still serving after all of it
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def test_service_serves_reloads_and_survives_a_bad_edit(upstream: Loopback, tmp_path: Path) -> None:
    tree = tmp_path / "providers.d"
    write_files(tree, {"up.yaml": provider(upstream.url, "100")})
    with started(tree) as base:
        health = get(base, "/healthz")
        assert (health["status"], health["generation"]) == ("ok", 1)
        assert get(base, "/providers")["providers"][0] == {
            "id": "up",
            "kind": "registered",
            "api": "openai-completions",
            "models": ["small"],
        }
        forwarded = get(base, "/forward?model=up/small&path=models")
        assert forwarded["upstream_status"] == 200
        assert upstream.requests[-1].path == "/v1/models"
        assert upstream.requests[-1].headers["authorization"] == f"Bearer {KEY}"
        assert KEY not in json.dumps(forwarded)
        with pytest.raises(urllib.error.HTTPError) as refused:  # a request's mistake: 400
            get(base, "/forward?model=nobody/x&path=models")
        assert refused.value.code == 400
        assert "unresolved-model" in refused.value.read().decode()

        (tree / "up.yaml").write_text(provider(upstream.url, "200"))
        wait_for(lambda: get(base, "/healthz")["generation"] == 2, "the good edit")

        (tree / "up.yaml").write_text(provider(upstream.url, "lots"))
        wait_for(lambda: get(base, "/healthz")["status"] == "degraded", "the bad edit")
        health = get(base, "/healthz")
        assert health["generation"] == 2
        assert any("up.yaml:6" in e and "wrong-type" in e for e in health["last_error"])
        assert get(base, "/forward?model=up/small&path=models")["upstream_status"] == 200


def test_service_imports_only_its_allowed_handlers(upstream: Loopback, tmp_path: Path) -> None:
    tree = tmp_path / "providers.d"
    acme = (
        "kind: ApiProvider\napi: acme-rpc\nhandler: acme_llm.protocols:AcmeRpc\n---\n"
        f"kind: Provider\nid: acme\napi: acme-rpc\nbaseUrl: {upstream.url}/rpc\n"
    )
    write_files(tree, {"up.yaml": provider(upstream.url, "100"), "acme.yaml": acme})
    write_files(
        tmp_path, {"test_pwn.py": "import pathlib\npathlib.Path('marker').write_text('x')\n"}
    )
    with started(tree, cwd=tmp_path, pythonpath=[REPO / "examples"]) as base:
        assert "acme" in [p["id"] for p in get(base, "/providers")["providers"]]
        # An edit that names code outside the allow-list: refused before any import.
        (tree / "pwn.yaml").write_text(
            "kind: ApiProvider\napi: x\nhandler: unittest.__main__:main\n"
        )
        wait_for(lambda: get(base, "/healthz")["status"] == "degraded", "the refused edit")
        health = get(base, "/healthz")
        assert any("handler-not-allowed" in e and "pwn.yaml:3" in e for e in health["last_error"])
        assert not (tmp_path / "marker").exists()
        (tree / "pwn.yaml").unlink()
        (tree / "up.yaml").write_text(provider(upstream.url, "300"))
        wait_for(lambda: get(base, "/healthz")["status"] == "ok", "the next good edit")
