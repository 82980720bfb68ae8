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

from ._discover import DEFAULT_PATHS, MAX_FILE_BYTES, discover, read_capped
from ._domain import Call
from ._errors import ConfigError, Diagnostic, Place, Severity
from .compiler import load_calls
from .runtime import Registry, Snapshot, Watch, build_registry, read_artifact
from .runtime._secretfiles import referenced_secrets, secret_digest
from .runtime._secretfiles import secrets_dir as secrets_dir_of

Fingerprint = tuple[tuple[int, str, str], ...]  # (layer, path, sha256) of every input file


def load_registry(
    paths: Sequence[str | os.PathLike[str]] = DEFAULT_PATHS,
    *,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool = True,
    handler_modules: Sequence[str] | None = None,
    known_providers: Collection[str] = (),
    providers: Iterable[str] | None = None,
    secrets_dir: str | os.PathLike[str] | None = None,
) -> Registry:
    """Validate, compile and render ``paths`` (in layer order) and return the Registry.

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
    return build_registry(
        load_calls(paths, known_providers=known_providers),
        env=env,
        bindings=bindings,
        import_handlers=import_handlers,
        handler_modules=handler_modules,
        providers=providers,
        secrets_dir=secrets_dir,
    )


def calls_of(paths: str | Sequence[str]) -> tuple[Call, ...]:
    """The compiled calls of providers.d paths (in layer order), or of one compiled
    artifact (``*.json``); raises ConfigError."""
    given = [paths] if isinstance(paths, str) else list(paths)
    if len(given) == 1 and given[0].endswith(".json") and os.path.isfile(given[0]):
        return read_artifact(given[0])
    return load_calls(given)


class Tree:
    """A providers.d tree as a :class:`Watch` source: its fingerprint is the content hash
    of every file, in layer order."""

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        known_providers: Collection[str] = (),
        secrets_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.paths = [os.fspath(p) for p in paths]
        self.max_file_bytes = max_file_bytes
        self.known_providers = tuple(known_providers)
        self.secrets_dir = secrets_dir_of(secrets_dir)  # hashed afresh at every poll
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
        calls = load_calls(
            self.paths, max_file_bytes=self.max_file_bytes, known_providers=self.known_providers
        )
        self._secret_names = referenced_secrets(calls)
        return calls


def watch(
    paths: Sequence[str | os.PathLike[str]] = DEFAULT_PATHS,
    *,
    interval: float = 1.0,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool = True,
    handler_modules: Sequence[str] | None = None,
    allow_empty: bool = False,
    on_reload: Callable[[Snapshot], None] | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    known_providers: Collection[str] = (),
    providers: Iterable[str] | None = None,
    secrets_dir: str | os.PathLike[str] | None = None,
) -> Watch:
    """Load ``paths`` (raising ConfigError if the first tree is bad) and keep it current.

    Use as a context manager (``with watch([...]) as live:``) or call ``.start()`` /
    ``.stop()``; ``poll_once()`` polls by hand. A changed tree is swapped in only when it
    is stable and good; a bad one leaves the last good registry serving."""
    return Watch(
        Tree(
            paths,
            max_file_bytes=max_file_bytes,
            known_providers=known_providers,
            secrets_dir=secrets_dir,
        ),
        interval=interval,
        env=env,
        bindings=bindings,
        import_handlers=import_handlers,
        handler_modules=handler_modules,
        providers=providers,
        secrets_dir=secrets_dir,
        allow_empty=allow_empty,
        on_reload=on_reload,
    )
