"""Loading a providers.d tree into a service: the compiler's calls handed to the runtime.

The one place where the two sides meet: :func:`load_registry` and :func:`watch` compile
with ``flue_decl.compiler`` and build with ``flue_decl.runtime``; :func:`calls_of` reads
either a tree or an artifact.
A service that starts from an artifact (``load_artifact``) never imports this module.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from ._discover import as_layers, discover, read_capped
from ._domain import Call
from ._errors import ConfigError, Diagnostic, Place, Severity
from ._settings import Settings, settings_for
from .compiler import load_calls
from .runtime import Registry, Snapshot, Watch, build_registry, read_artifact
from .runtime._secretfiles import referenced_secrets, secret_digest
from .runtime._secretfiles import secrets_dir as secrets_dir_of

Fingerprint = tuple[tuple[int, str, str], ...]  # (layer, path, sha256) of every input file


PathArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
SettingsArg = str | os.PathLike[str] | Settings | None


def load_registry(
    paths: PathArg | None = None,
    *,
    settings: SettingsArg = None,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool = True,
    handler_modules: Sequence[str] | None = None,
    known_providers: Collection[str] | None = None,
    providers: Iterable[str] | None = None,
    secrets_dir: str | os.PathLike[str] | None = None,
) -> Registry:
    """Validate, compile and render ``paths`` and return the Registry.

    ``paths``: one directory or file, or a list of them in layer order (default: the
    settings' ``paths``, else ``providers.d``). ``settings``: a settings file
    (``flue-decl.toml`` or a ``pyproject.toml`` with ``[tool.flue-decl]``) for what is not
    given here; a service never reads one it was not given.

    ``env`` defaults to ``os.environ``; ``bindings`` maps Cloudflare binding names to the
    host's objects. ApiProvider handlers are imported only from modules under
    ``handler_modules`` (prefixes; default ``FLUE_DECL_HANDLER_MODULES``; none: refused).
    ``known_providers``: IDs the service registers in code, which configurations may target.
    ``providers``: serve only these (their calls alone are rendered, so only their
    variables are needed; resolving another raises ResolveError). ``secrets_dir``: where
    ``secret.NAME`` templates read (default ``FLUE_DECL_SECRETS_DIR``, else /run/secrets).
    Raises :class:`InputError`, :class:`ValidationError` or :class:`TemplateError` (all
    :class:`ConfigError`) with every problem found.
    """
    options = _options(
        paths,
        settings,
        handler_modules=handler_modules,
        known_providers=known_providers,
        secrets_dir=secrets_dir,
    )
    return build_registry(
        load_calls(settings=options),
        env=env,
        bindings=bindings,
        import_handlers=import_handlers,
        handler_modules=options.handler_modules,
        providers=providers,
        secrets_dir=options.secrets_dir,
    )


def _options(
    paths: PathArg | None,
    settings: SettingsArg,
    *,
    handler_modules: Sequence[str] | None,
    known_providers: Collection[str] | None,
    secrets_dir: str | os.PathLike[str] | None,
    max_file_bytes: int | None = None,
) -> Settings:
    if isinstance(handler_modules, str | bytes):  # a string would be one-letter prefixes
        raise TypeError("handler_modules is a list of module prefixes, not a string")
    return settings_for(
        settings,
        paths=None if paths is None else as_layers(paths),
        handler_modules=None if handler_modules is None else tuple(handler_modules),
        known_providers=None if known_providers is None else tuple(known_providers),
        secrets_dir=None if secrets_dir is None else os.fspath(secrets_dir),
        max_file_bytes=max_file_bytes,
    )


def calls_of(paths: PathArg, settings: SettingsArg = None) -> tuple[Call, ...]:
    """The compiled calls of providers.d paths (in layer order; ``settings`` for the rest),
    or of one compiled artifact (``*.json``); raises ConfigError. An empty tree is a side
    of a diff too."""
    given = as_layers(paths)
    if len(given) == 1 and given[0].endswith(".json") and os.path.isfile(given[0]):
        return read_artifact(given[0])
    return load_calls(given, settings=settings, allow_empty=True)


class Tree:
    """A providers.d tree as a :class:`Watch` source: its fingerprint is the content hash
    of every file, in layer order."""

    def __init__(self, options: Settings, *, allow_empty: bool = False) -> None:
        self.options = options
        self.paths = list(options.layers())
        self.max_file_bytes = options.max_file_bytes
        self.allow_empty = allow_empty
        self.secrets_dir = secrets_dir_of(options.secrets_dir)  # hashed afresh at every poll
        self._secret_names: tuple[str, ...] = ()  # what the last calls read

    def fingerprint(self) -> Fingerprint | ConfigError:
        found = discover(self.paths)
        errors = [d for d in found.diagnostics if d.severity is Severity.ERROR]
        if errors:
            return ConfigError(errors)
        out = []
        for source in found.files:
            try:
                # Never more than the parser would read: a huge file is refused, not hashed.
                raw = read_capped(source.path, self.max_file_bytes)
            except OSError:  # vanished between listing and reading: not stable yet
                raw = None
            if raw is not None and len(raw) > self.max_file_bytes:
                return ConfigError(
                    [
                        Diagnostic.at(
                            "file-too-large",
                            f"file is larger than {self.max_file_bytes} bytes",
                            Place(source.path, 1, 1),
                            hint="split it into several files",
                        )
                    ]
                )
            digest = "unreadable" if raw is None else hashlib.sha256(raw).hexdigest()
            out.append((source.layer, source.path, digest))
        # A rotated secret file is a change too (a Kubernetes ..data swap included).
        for name in self._secret_names:
            out.append((-1, name, secret_digest(self.secrets_dir, name)))
        return tuple(out)

    def calls(self) -> tuple[Call, ...]:
        calls = load_calls(settings=self.options, allow_empty=self.allow_empty)
        self._secret_names = referenced_secrets(calls)
        return calls


def watch(
    paths: PathArg | None = None,
    *,
    settings: SettingsArg = None,
    interval: float = 1.0,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool = True,
    handler_modules: Sequence[str] | None = None,
    allow_empty: bool = False,
    on_reload: Callable[[Snapshot], None] | None = None,
    max_file_bytes: int | None = None,
    known_providers: Collection[str] | None = None,
    providers: Iterable[str] | None = None,
    secrets_dir: str | os.PathLike[str] | None = None,
) -> Watch:
    """Load ``paths`` (raising ConfigError if the first tree is bad) and keep it current.
    ``paths`` and ``settings`` as for :func:`load_registry`.

    Use as a context manager (``with watch([...]) as live:``) or call ``.start()`` /
    ``.stop()``; ``poll_once()`` polls by hand. A changed tree is swapped in only when it
    is stable and good; a bad one leaves the last good registry serving."""
    options = _options(
        paths,
        settings,
        handler_modules=handler_modules,
        known_providers=known_providers,
        secrets_dir=secrets_dir,
        max_file_bytes=max_file_bytes,
    )
    return Watch(
        Tree(options, allow_empty=allow_empty),
        interval=interval,
        env=env,
        bindings=bindings,
        import_handlers=import_handlers,
        handler_modules=options.handler_modules,
        providers=providers,
        secrets_dir=options.secrets_dir,
        allow_empty=allow_empty,
        on_reload=on_reload,
    )
