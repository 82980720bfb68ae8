from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .oracle import NODE_DIR, ReplayServer, unavailable_reason


@pytest.fixture(scope="session")
def oracle() -> Iterator[ReplayServer]:
    reason = unavailable_reason()
    if reason is not None:
        # `make test` installs the reference and sets this: there, a missing oracle is a failure.
        if os.environ.get("FLUE_DECL_REQUIRE_NODE") == "1":
            pytest.fail(f"conformance oracle unavailable: {reason}")
        pytest.skip(reason)
    server = ReplayServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # Inside the node directory: the modules import @flue/runtime from its node_modules.
    path = Path(tempfile.mkdtemp(prefix=".emit-", dir=NODE_DIR))
    yield path
    shutil.rmtree(path, ignore_errors=True)
