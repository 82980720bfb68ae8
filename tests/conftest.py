from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.helpers import PROFILE, examples

# Property tests without counts of their own draw hypothesis's 100 examples, scaled.
settings.register_profile(PROFILE, max_examples=examples(100))
settings.load_profile(PROFILE)


@pytest.fixture(autouse=True, scope="session")
def private_validation_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the suite's validate runs (and their children) out of the user's cache."""
    directory = tmp_path_factory.mktemp("flue-decl-cache")
    previous = os.environ.get("FLUE_DECL_CACHE_DIR")
    os.environ["FLUE_DECL_CACHE_DIR"] = str(directory)
    yield directory
    if previous is None:
        os.environ.pop("FLUE_DECL_CACHE_DIR", None)
    else:
        os.environ["FLUE_DECL_CACHE_DIR"] = previous
