from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .oracle import ReplayServer, unavailable_reason


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
