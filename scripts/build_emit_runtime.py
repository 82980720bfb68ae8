"""Regenerate flue_decl/compiler/emit_runtime.js from emit_runtime.ts (``make emit-runtime``).

The TypeScript file is the one source: ``tsc`` (pinned in tests/conformance/node) strips its
types, and the result is what ``flue-decl emit --target flue-js`` writes. A test runs this
again and compares, so the two cannot drift.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "flue_decl" / "compiler" / "emit_runtime.ts"
TARGET = SOURCE.with_suffix(".js")
TSC = ROOT / "tests" / "conformance" / "node" / "node_modules" / ".bin" / "tsc"
HEADER = (
    "// Made from emit_runtime.ts by `make emit-runtime` (tsc strips the types): do not edit.\n"
    "// The renderer and the applier of the modules `flue-decl emit` writes; see the .ts file.\n"
)


def built() -> str:
    """What emit_runtime.js should hold."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [str(TSC), str(SOURCE), "--target", "es2022", "--strict", "--outDir", out],
            check=True,
            capture_output=True,
            text=True,
        )
        text = (Path(out) / "emit_runtime.js").read_text(encoding="utf-8")
    return HEADER + text.replace('"use strict";\n', "", 1)


def main() -> int:
    TARGET.write_text(built(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
