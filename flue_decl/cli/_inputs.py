"""What the commands read: the paths given, compiled (and rendered) the one way every
caller does, with the number of files read kept for the summary line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from .._discover import DEFAULT_PATHS
from ..compiler import Compilation, compile_paths
from ..runtime import Registry, build_registry


def paths(args: argparse.Namespace) -> list[str]:
    given: Sequence[str] | None = getattr(args, "paths", None) or getattr(args, "config", None)
    return list(given) if given else list(DEFAULT_PATHS)


def compiled(args: argparse.Namespace) -> Compilation:
    """The compiled tree; raises ConfigError (InputError, ValidationError) on errors."""
    compilation = compile_paths(
        paths(args),
        max_file_bytes=args.max_file_bytes,
        known_providers=args.known_provider or (),
    )
    args.files_read = compilation.files  # for the summary line if a later step fails
    compilation.raise_for_errors()
    return compilation


def registry(args: argparse.Namespace) -> Registry:
    """The registry of the tree, rendered against this environment (TemplateError lists
    every missing variable). The command line reports on configuration: it does not run
    protocol code, so ApiProvider handlers are not imported."""
    return build_registry(compiled(args).calls, env=os.environ, import_handlers=False)
