"""Loading a providers.d tree into a service: the compiler's calls handed to the runtime.

The one place where the two sides meet: :func:`load_registry` and :func:`watch` compile
with ``flue_decl.compiler`` and build with ``flue_decl.runtime``; :func:`calls_of` reads
either a tree or an artifact. The compiler (and PyYAML, jsonschema) is imported only where a
compile runs in this process: a ``watch`` compiles in a child process and never imports it.
A service that starts from an artifact (``load_artifact``) never imports this module.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from ._discover import as_layers, discover
from ._domain import Call
from ._errors import ConfigError, Diagnostic, Place, Severity, frames_dropped
from ._files import read_capped
from ._isolated import Compiled, background, compile_in_child
from ._poller import MARKER as POLLER_MARKER
from ._poller import Poller
from ._service import ServiceOptions
from ._settingkeys import Settings
from ._settings import settings_for
from .runtime import Registry, Snapshot, Watch, build_registry, read_artifact
from .runtime._secretfiles import MAX_SECRET_BYTES, referenced_secrets
from .runtime._secretfiles import secrets_dir as secrets_dir_of

Fingerprint = tuple[tuple[int, str, str], ...]  # (layer, path, sha256) of every input file


PathArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
SettingsArg = str | os.PathLike[str] | Settings | None


@frames_dropped
def load_registry(
    paths: PathArg | None = None,
    *,
    settings: SettingsArg = None,
    options: ServiceOptions | None = None,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool | None = None,
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
    ``options``: a :class:`ServiceOptions` holding any of these; a keyword given wins.
    Raises :class:`InputError`, :class:`ValidationError` or :class:`TemplateError` (all
    :class:`ConfigError`) with every problem found.
    """
    from .compiler import load_calls

    service = ServiceOptions.given(
        options,
        env=env,
        bindings=bindings,
        import_handlers=import_handlers,
        handler_modules=handler_modules,
        known_providers=known_providers,
        providers=providers,
        secrets_dir=secrets_dir,
    )
    effective = _settings(paths, settings, service)
    # The compile's calls are this registry's alone: their payloads are handed over.
    calls = load_calls(settings=effective)
    return build_registry(calls, options=_with(service, effective), owned=True)


def _settings(
    paths: PathArg | None,
    settings: SettingsArg,
    service: ServiceOptions,
    max_file_bytes: int | None = None,
) -> Settings:
    """The effective settings: ``settings`` (a file or Settings) under what the service
    gave."""
    return settings_for(
        settings,
        paths=None if paths is None else as_layers(paths),
        handler_modules=service.handler_modules,
        known_providers=service.known_providers,
        secrets_dir=service.secrets_dir,
        max_file_bytes=max_file_bytes,
    )


def _with(service: ServiceOptions, effective: Settings) -> ServiceOptions:
    """``service`` with what the settings file added: its handler modules and secrets."""
    return service.merged(
        handler_modules=effective.handler_modules, secrets_dir=effective.secrets_dir
    )


def calls_of(paths: PathArg, settings: SettingsArg = None) -> tuple[Call, ...]:
    """The compiled calls of providers.d paths (in layer order; ``settings`` for the rest),
    or of one compiled artifact (``*.json``); raises ConfigError. An empty tree is a side
    of a diff too."""
    given = as_layers(paths)
    if len(given) == 1 and given[0].endswith(".json") and os.path.isfile(given[0]):
        return read_artifact(given[0])
    from .compiler import load_calls

    return load_calls(given, settings=settings, allow_empty=True)


FULL_CHECK_EVERY = 30  # polls: an in-place edit that kept size and times is seen by then


class Tree:
    """A providers.d tree as a :class:`Watch` source. Its fingerprint is the content hash of
    every input file in layer order, of every secret file its templates read, and the
    entries that cannot be read. A poll costs a ``stat`` per file: a file is hashed again
    only when its stat changed, and every ``FULL_CHECK_EVERY`` polls whatever it says. What
    a load read is fingerprinted from the bytes the compiler read, so a change during the
    load is seen at the next poll."""

    def __init__(
        self, options: Settings, *, allow_empty: bool = False, isolated: bool = True
    ) -> None:
        self.options = options
        self.isolated = isolated
        # Calls decoded from the child's answer are decoded afresh for each reader.
        self.owns_calls = isolated
        self.paths = list(options.layers())
        self.max_file_bytes = options.max_file_bytes
        self.allow_empty = allow_empty
        self.secrets_dir = secrets_dir_of(options.secrets_dir)  # hashed afresh at every poll
        self.secret_names: tuple[str, ...] = ()  # what the last calls read
        self._poller = Poller(options, self.secrets_dir)
        self._hashes: dict[str, tuple[tuple[int, ...], str]] = {}  # path -> (stat, digest)
        self._polls = 0
        self._loaded: Fingerprint = ()

    def fingerprint(self) -> str | ConfigError:
        """The digest of what the tree holds now (see :meth:`scan`), or the error that
        stops reading it. Isolated, every poll after the first is made by a child process
        (``_poller``): this process waits once, not once per file."""
        if self.isolated and self._polls > 0:
            answer = self._poller.digest(self.secret_names)
            if answer is not None:
                return answer
        seen = self.scan()
        return seen if isinstance(seen, ConfigError) else self.digest_of(seen)

    @staticmethod
    def digest_of(seen: Fingerprint) -> str:
        return hashlib.sha256(json.dumps(seen).encode()).hexdigest()

    def close(self) -> None:
        """End the polling child, if any (a later poll starts another)."""
        self._poller.close()

    def scan(self) -> Fingerprint | ConfigError:
        """Every input file's (layer, path, sha256), skipped entries and secret files
        included, or the error that stops reading the tree now."""
        self._polls += 1
        full = self._polls % FULL_CHECK_EVERY == 0
        found = discover(self.paths)
        # A missing input stops reading now. An entry that cannot be read (a FIFO, a link
        # to nothing) is part of what is seen: loaded once it stayed so for a poll, it is
        # reported; a Kubernetes ..data swap caught half-way is over by then.
        fatal = [
            d
            for d in found.diagnostics
            if d.severity is Severity.ERROR and d.code != "skipped-file"
        ]
        if fatal:
            return ConfigError(fatal)
        out: list[tuple[int, str, str]] = [
            (-2, d.file or "", d.code) for d in found.diagnostics if d.code == "skipped-file"
        ]
        hashes: dict[str, tuple[tuple[int, ...], str]] = {}
        for source in found.files:
            digest = self._digest(source.path, self.max_file_bytes, full, hashes)
            if digest == "too-large":
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
            out.append((source.layer, source.path, digest))
        # A rotated secret file is a change too (a Kubernetes ..data swap included).
        for name in self.secret_names:
            out.append((-1, name, self._digest(self._secret(name), MAX_SECRET_BYTES, full, hashes)))
        self._hashes = hashes  # only what is still there
        return tuple(out)

    def _digest(
        self,
        path: str,
        limit: int,
        full: bool,
        seen: dict[str, tuple[tuple[int, ...], str]],
    ) -> str:
        try:
            info = os.stat(path)
        except OSError:  # vanished between listing and reading: not stable yet
            return "missing"
        stamp = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        known = self._hashes.get(path)
        if known is not None and known[0] == stamp and not full:
            seen[path] = known
            return known[1]
        try:
            # Never more than the parser would read: a huge file is refused, not hashed.
            raw = read_capped(path, limit)
        except OSError:
            return "unreadable"
        digest = "too-large" if len(raw) > limit else hashlib.sha256(raw).hexdigest()
        seen[path] = (stamp, digest)
        return digest

    def calls(self) -> Sequence[Call]:
        """Compile the tree: in a child process when ``isolated`` (see ``_isolated``),
        else in this one."""
        if self.isolated:
            compiled = compile_in_child(self.options, allow_empty=self.allow_empty)
        else:
            from .compiler import compile_paths

            compilation = compile_paths(settings=self.options, allow_empty=self.allow_empty)
            compilation.raise_for_errors()
            compiled = Compiled(
                compilation.calls,
                tuple((s.layer, s.path) for s in compilation.discovery.files),
                compilation.hashes,
            )
        calls = compiled.calls
        self.secret_names = referenced_secrets(calls)
        read = dict(compiled.hashes)
        files = [(layer, path, read.get(path, "unreadable")) for layer, path in compiled.files]
        # Secret files as they are now, before the registry reads them: a rotation in
        # between shows as a change at the next poll (one more reload, never a stale key).
        secrets = [
            (-1, name, self._digest(self._secret(name), MAX_SECRET_BYTES, True, {}))
            for name in self.secret_names
        ]
        self._loaded = (*files, *secrets)
        return calls

    def _secret(self, name: str) -> str:
        return os.path.join(self.secrets_dir, name)

    def loaded(self) -> str:
        """The fingerprint of what the last :meth:`calls` read."""
        return self.digest_of(self._loaded)


@frames_dropped
def watch(
    paths: PathArg | None = None,
    *,
    settings: SettingsArg = None,
    options: ServiceOptions | None = None,
    interval: float = 1.0,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool | None = None,
    handler_modules: Sequence[str] | None = None,
    allow_empty: bool = False,
    on_reload: Callable[[Snapshot], None] | None = None,
    max_file_bytes: int | None = None,
    known_providers: Collection[str] | None = None,
    providers: Iterable[str] | None = None,
    secrets_dir: str | os.PathLike[str] | None = None,
    isolated_reloads: bool = True,
) -> Watch:
    """Load ``paths`` (raising ConfigError if the first tree is bad) and keep it current.
    ``paths``, ``settings`` and ``options`` as for :func:`load_registry`.

    Use as a context manager (``with watch([...]) as live:``) or call ``.start()`` /
    ``.stop()``; ``poll_once()`` polls by hand. A changed tree is swapped in only when it
    is stable and good; a bad one leaves the last good registry serving.

    Every load compiles in a child process (``sys.executable``) that hands over only the
    calls: a compile's objects never stall request threads in a collection, its memory goes
    back when the child exits, and this process never imports the compiler.
    ``isolated_reloads=False`` compiles here instead, for an interpreter that cannot start
    itself (one embedded in another program)."""
    service = ServiceOptions.given(
        options,
        env=env,
        bindings=bindings,
        import_handlers=import_handlers,
        handler_modules=handler_modules,
        known_providers=known_providers,
        providers=providers,
        secrets_dir=secrets_dir,
    )
    effective = _settings(paths, settings, service, max_file_bytes)
    return Watch(
        Tree(effective, allow_empty=allow_empty, isolated=isolated_reloads),
        options=_with(service, effective),
        interval=interval,
        allow_empty=allow_empty,
        on_reload=on_reload,
    )


def poll_in_child() -> None:
    """The polling child's side (see ``_poller``): read the settings, then answer every
    poll with the digest of :meth:`Tree.scan`, or the error that stops reading."""
    background()
    stdin, out = sys.stdin.buffer, sys.stdout.buffer
    options, secrets_dir = pickle.load(stdin)
    tree = Tree(options, isolated=False)
    tree.secrets_dir = secrets_dir  # as the service found it: this environment is bare
    out.write(POLLER_MARKER)
    out.flush()
    for line in stdin:
        tree.secret_names = tuple(json.loads(line))
        answer: dict[str, Any]
        try:
            seen = tree.scan()
            if isinstance(seen, ConfigError):
                answer = {"diagnostics": [d.encoded() for d in seen.diagnostics]}
            else:
                answer = {"digest": Tree.digest_of(seen)}
        except Exception as exc:  # the parent polls by itself; it sees only the type
            answer = {"crash": type(exc).__name__}
        out.write(json.dumps(answer).encode() + b"\n")
        out.flush()
    os._exit(0)
