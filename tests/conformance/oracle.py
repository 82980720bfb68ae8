"""Clients of the reference runtime: the long-lived replay server and replay.mjs itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import IO, Any

NODE_DIR = Path(__file__).resolve().parent / "node"
RUNTIME = NODE_DIR / "node_modules" / "@flue" / "runtime" / "package.json"


def unavailable_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not RUNTIME.exists():
        return f"the reference runtime is not installed (run `npm ci` in {NODE_DIR})"
    return None


def _clean_env() -> dict[str, str]:
    # The oracle must not see this machine's keys; replay.mjs deletes them too.
    return {
        k: v
        for k, v in os.environ.items()
        if not any(t in k for t in ("_API_KEY", "_TOKEN"))
        and not k.startswith(("AWS_", "GOOGLE_", "GCLOUD_"))
    }


class ReplayServer:
    """replay-server.mjs: one case per line, fresh runtime state per case (replayed calls,
    or an emitted module's: see its ``kind``)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["node", "replay-server.mjs"],
            cwd=NODE_DIR,
            env=_clean_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.cases = 0
        self.last_line = ""  # the JSON text of the last answer, as node wrote it

    def run(self, case: dict[str, Any]) -> dict[str, Any]:
        stdin: IO[str] | None = self.proc.stdin
        stdout: IO[str] | None = self.proc.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(json.dumps(case) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"replay server exited with {self.proc.wait()}")
        self.last_line = line.rstrip("\n")
        result: dict[str, Any] = json.loads(line)
        if "fatal" in result:
            raise RuntimeError(result["fatal"])
        self.cases += 1
        return result

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()


def replay_once(case: dict[str, Any], cwd: Path | None = None) -> dict[str, Any]:
    """The unmodified replay.mjs from the reference recipe, one process per case (run in
    ``cwd``, default its own directory)."""
    out = subprocess.run(
        ["node", str(NODE_DIR / "replay.mjs")],
        cwd=cwd or NODE_DIR,
        env=_clean_env(),
        input=json.dumps(case),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result
