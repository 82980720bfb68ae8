"""The shipped catalog snapshot is exactly what the pinned reference prints."""

from __future__ import annotations

import json
import subprocess

from flue_decl import builtin_catalog

from .oracle import NODE_DIR, ReplayServer


def test_shipped_catalog_equals_the_reference(oracle: ReplayServer) -> None:
    del oracle  # availability check only
    out = subprocess.run(
        ["node", "dump-catalog.mjs"],
        cwd=NODE_DIR,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    reference = json.loads(out)
    catalog = builtin_catalog()
    assert catalog.source == reference["source"] == "@earendil-works/pi-ai 0.79.10"
    assert dict(catalog.providers) == reference["providers"]
    assert len(catalog.providers) == 35
    assert sum(len(p["models"]) for p in catalog.providers.values()) == 979
