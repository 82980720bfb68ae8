"""Regenerate flue_decl/_data/catalog.json from the pinned reference runtime.

Usage: python scripts/update_catalog.py [--check]

Runs tests/conformance/node/dump-catalog.mjs (needs `npm ci` there first) and
writes its output compactly. With --check, exits 1 if the shipped snapshot
differs from what the reference prints.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "conformance" / "node"
TARGET = ROOT / "flue_decl" / "_data" / "catalog.json"


def dump() -> dict[str, Any]:
    out = subprocess.run(
        ["node", "dump-catalog.mjs"], cwd=NODE_DIR, check=True, capture_output=True, text=True
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def serialise(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = serialise(dump())
    if "--check" in argv:
        same = TARGET.read_text(encoding="utf-8") == text
        print("catalog snapshot is current" if same else "catalog snapshot differs from reference")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
