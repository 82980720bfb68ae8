"""The ``flue-decl`` command line: options parsed in ``_main``, one module per command
family (``_validate``, ``_check``, ``_show``, ``_diff``, ``_probe``), output formats by name
(``_reporters`` for diagnostics, ``_formats`` for the rest), the validation ``_cache``."""

from ._main import main, run

__all__ = ["main", "run"]
