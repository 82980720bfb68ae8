"""What the commands read: the tree their settings name, compiled (and rendered) the one way
every caller does, with the number of files read kept for the summary line."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable

from .._catalog import builtin_catalog
from ..compiler import Compilation, compile_paths
from ..runtime import Registry, build_registry, select_calls
from ..runtime._secretfiles import SecretFiles
from ..views import reviewed_registry
from ._args import Args
from ._options import jobs, options


def compiled(args: Args) -> Compilation:
    """The compiled tree; raises ConfigError (InputError, ValidationError) on errors."""
    compilation = compile_paths(settings=options(args), jobs=jobs(args))
    args.files_read = compilation.files  # for the summary line if a later step fails
    compilation.raise_for_errors()
    return compilation


def registry(
    args: Args,
    providers: Collection[str] | None = None,
    *,
    strict: bool = False,
    review: bool = False,
    import_handlers: bool = False,
) -> Registry:
    """The registry of the tree, rendered against this environment (TemplateError lists
    every missing variable). The command line reports on configuration: it does not run
    protocol code, so ApiProvider handlers are not imported. With ``providers``, only their
    calls are rendered: a command about one provider needs only that provider's variables
    (``strict``: a provider neither declared nor built in is an error). ``review``: a
    field whose variables or secret files are unset keeps its template text (a reviewer
    holds no production secret); any other problem of rendering is still an error.
    ``import_handlers``: import the ApiProvider handlers the settings' handler-modules (or
    ``FLUE_DECL_HANDLER_MODULES``) allow, as a service would (``probe`` speaks through
    them)."""
    calls = compiled(args).calls
    if providers is not None:
        calls = select_calls(calls, list(providers), builtin_catalog(), strict=strict)
    secrets = options(args).secrets_dir
    if review:
        return reviewed_registry(calls, os.environ, SecretFiles(secrets))
    return build_registry(
        calls,
        env=os.environ,
        import_handlers=import_handlers,
        handler_modules=options(args).handler_modules,
        secrets_dir=secrets,
    )


def named_providers(specs: Iterable[str]) -> set[str]:
    """The provider IDs that model specifiers name (``openai/gpt-4o`` -> ``openai``)."""
    return {spec.partition("/")[0] for spec in specs}
