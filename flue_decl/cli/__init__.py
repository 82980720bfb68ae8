"""The ``flue-decl`` command line: options parsed in ``_main``, one module per command
family (``_validate``, ``_check``, ``_show``, ``_diff``, ``_probe``), output formats by name
(``_reporters`` for diagnostics, ``_formats`` for the rest), the validation ``_cache`` and
its replays (``_replay``, tried before anything else is imported)."""

from __future__ import annotations

import sys

from ._replay import replayed

TYPE_CHECKING = False  # typing's own costs a replay more than its whole run
if TYPE_CHECKING:
    from typing import NoReturn

    from ._main import main


def run() -> NoReturn:
    """The ``flue-decl`` command: a replay of the same ``validate`` if nothing it read
    changed, else :func:`main` on ``sys.argv``; then exit with its code."""
    code = replayed(sys.argv[1:])
    if code is None:
        from ._main import run as command

        command()
    sys.exit(code)


def __getattr__(name: str) -> object:
    if name == "main":
        from ._main import main

        return main
    raise AttributeError(f"module 'flue_decl.cli' has no attribute {name!r}")


__all__ = ["main", "run"]
