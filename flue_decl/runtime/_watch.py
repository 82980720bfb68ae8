"""Hot reload with last-known-good: a :class:`Watch` keeps a Registry current while serving.

A polling watcher of a :class:`Source` (``flue_decl.watch`` gives it a providers.d tree),
by content hash (not modification time: a Kubernetes ConfigMap keeps mtimes and swaps a
``..data`` symlink). A change is loaded only after two consecutive polls
saw the same bytes (a slow writer is not read half-way), and only if the tree still has
those bytes after loading (a change during the load waits for the next round). The whole
tree is validated before anything is swapped; a bad tree keeps the last good registry
serving and says why in ``last_error``. An empty tree never replaces a non-empty registry
unless ``allow_empty=True``.

What the tree holds has one home, the :class:`Source` (for a providers.d tree, ``Tree``:
its files' stats and hashes, what the last load read); a Watch keeps only which of the
source's fingerprints it serves, and what loading it gave.

Everything a reader sees lives in one immutable :class:`Snapshot`, replaced by a single
assignment: ``live.snapshot()`` is always one consistent generation (``live.registry`` is
a shortcut for ``live.snapshot().registry``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from .._domain import Call
from .._errors import ConfigError, Diagnostic, ReloadError
from .._service import ServiceOptions
from ._build import build_registry
from ._registry import Registry


class Source(Protocol):
    """What a :class:`Watch` reloads from.

    Optional attribute ``owns_calls``: true when every :meth:`calls` returns calls that
    nothing else keeps but earlier registries of this source (which never change them);
    the registry then takes their payloads over instead of copying them (a reload builds
    only the objects it needs, not a second copy of the tree).

    Optional method ``close()``: called by :meth:`Watch.stop` to let go of what polling
    holds (a ``Tree``'s polling process); the source may be polled again after it."""

    def fingerprint(self) -> Hashable | ConfigError:
        """A value that changes whenever the calls would (content hashes), or the
        ConfigError that stops reading it now."""
        ...

    def calls(self) -> Sequence[Call]:
        """The compiled calls, templates unrendered; raises ConfigError."""
        ...

    def loaded(self) -> Hashable:
        """The fingerprint of what the last :meth:`calls` read (from the bytes it read,
        not read again). Optional: without it, the fingerprint after a load stands in."""
        ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One generation of a :class:`Watch`: the registry serving, and how the last reload
    attempt went (a failed one keeps the last good registry and says why)."""

    registry: Registry
    generation: int  # 1 for the first load, +1 for every swap
    last_reload_ok: bool
    last_success_time: float  # time.time() of the load that produced ``registry``
    last_error: ConfigError | None
    calls: int  # registry calls in ``registry`` (0: empty)


def _loaded(source: Source) -> Hashable:
    """What the last load read: ``source.loaded()``, or, for a Source written before that
    method existed, its fingerprint now."""
    loaded = getattr(source, "loaded", None)
    return loaded() if loaded is not None else source.fingerprint()


def _failure(exc: BaseException) -> ConfigError:
    """Any failure of a reload attempt, as the error a snapshot reports."""
    return ConfigError([Diagnostic.at("io-error", f"reloading failed: {type(exc).__name__}", None)])


class Watch:
    """Keeps a registry built from ``source`` current (see the module docstring); the first
    load raises ConfigError if it fails. ``flue_decl.watch`` makes one for a tree."""

    def __init__(
        self,
        source: Source,
        *,
        options: ServiceOptions | None = None,
        interval: float = 1.0,
        env: Mapping[str, str] | None = None,
        bindings: Mapping[str, Any] | None = None,
        import_handlers: bool | None = None,
        handler_modules: Sequence[str] | None = None,
        providers: Iterable[str] | None = None,
        secrets_dir: str | os.PathLike[str] | None = None,
        allow_empty: bool = False,
        on_reload: Callable[[Snapshot], None] | None = None,
    ) -> None:
        self._source = source
        self._interval = interval
        # Read once (a generator of providers too): every reload loads alike.
        self._service = ServiceOptions.given(
            options,
            env=env,
            bindings=bindings,
            import_handlers=import_handlers,
            handler_modules=handler_modules,
            providers=providers,
            secrets_dir=secrets_dir,
        )
        self._allow_empty = allow_empty
        self._on_reload = on_reload
        self._stop = threading.Event()  # the running thread's; a new one per start()
        self._thread: threading.Thread | None = None
        self._poll_lock = threading.Lock()
        # Publishing and stopping exclude each other: once stop() has returned, the thread
        # it stopped (even one still finishing a long reload) publishes nothing.
        self._publish_lock = threading.Lock()
        self._running: object | None = None  # the token of the thread allowed to publish
        first = source.fingerprint()
        if isinstance(first, ConfigError):
            raise first
        registry, calls = self._load()  # the first tree must be good: raises otherwise
        # What was loaded, as the loader read it: a change since shows at the next poll,
        # and an unchanged tree (secret files it reads included) never reloads.
        self._current: Hashable = _loaded(source)
        self._current_error: ConfigError | None = None  # what loading _current gave
        self._pending: Hashable | None = None
        self._state = Snapshot(registry, 1, True, time.time(), None, calls)

    # -- what readers use -------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return self._state

    @property
    def registry(self) -> Registry:
        return self._state.registry

    @property
    def generation(self) -> int:
        return self._state.generation

    @property
    def last_reload_ok(self) -> bool:
        return self._state.last_reload_ok

    @property
    def last_success_time(self) -> float:
        return self._state.last_success_time

    @property
    def last_error(self) -> ConfigError | None:
        return self._state.last_error

    # -- the loop ---------------------------------------------------------------------

    def start(self) -> Watch:
        """Start polling in a thread (again after :meth:`stop`, too)."""
        if self._thread is None:
            token, stop = object(), threading.Event()
            self._running, self._stop = token, stop
            self._thread = threading.Thread(
                target=self._run, args=(token, stop), name="flue-decl-watch", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling. Returns within one interval and a second and a half, even during a
        long reload or a slow on_reload; from then on that thread publishes nothing and
        starts no on_reload (it finishes what it was doing and ends)."""
        self._stop.set()
        with self._publish_lock:
            self._running = None
        if self._thread is not None:
            if self._thread is not threading.current_thread():  # stop() from on_reload
                self._thread.join(timeout=min(self._interval, 60.0) + 1.0)
            self._thread = None
        close = getattr(self._source, "close", None)  # optional: see Source
        if close is not None:
            close()

    def __enter__(self) -> Watch:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, token: object, stop: threading.Event) -> None:
        while not stop.wait(self._interval):
            try:
                self._poll(token)
            except BaseException as exc:
                self._fail(_failure(exc), token)

    def poll_once(self) -> bool:
        """One poll: returns True when a new registry was swapped in."""
        return self._poll(None)

    def _poll(self, token: object | None) -> bool:
        """A poll by the thread holding ``token`` (None: by hand)."""
        with self._poll_lock:
            if self._stale(token):  # stop() has returned: nothing more, polls included
                return False
            seen = self._source.fingerprint()
            if isinstance(seen, ConfigError):
                self._pending = None
                self._fail(seen, token)
                return False
            if seen == self._current:
                self._pending = None
                if self._state.last_error is not self._current_error:
                    # Back to the bytes last loaded after a passing error (a directory
                    # moved away and back): say again what those bytes gave.
                    self._settle(self._current_error, token)
                return False
            if seen != self._pending:  # changed since the last poll: wait until it is stable
                self._pending = seen
                return False
            try:
                registry, calls = self._load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit from a handler too
                if self._stale(token):
                    return False
                if self._source.fingerprint() != seen:
                    # Changed while loading (a secret rewritten mid-read): try again.
                    self._pending = None
                    return False
                error = exc if isinstance(exc, ConfigError) else _failure(exc)
                if isinstance(exc, ReloadError):  # not the tree's fault: again next poll
                    self._pending = seen
                    self._fail(error, token)
                    return False
                self._pending = None
                # Not the same bad bytes again every poll: they are what is current now.
                self._fail(error, token, current=(seen, error))
                return False
            if self._stale(token):
                return False
            if _loaded(self._source) != seen:  # changed while loading: next round
                self._pending = None
                return False
            if calls == 0 and self._state.calls > 0 and not self._allow_empty:
                error = ConfigError(
                    [
                        Diagnostic.at(
                            "input-not-found",
                            f"the tree is now empty; refusing to replace a registry of "
                            f"{self._state.calls} calls with an empty one "
                            "(allow_empty=True allows it)",
                            None,
                        )
                    ]
                )
                self._pending = None
                self._fail(error, token, current=(seen, error))
                return False
            self._pending = None
            return self._publish(
                Snapshot(registry, self._state.generation + 1, True, time.time(), None, calls),
                token,
                current=(seen, None),
            )

    def _stale(self, token: object | None) -> bool:
        """Whether ``token``'s thread was stopped (None: a poll by hand, never stale)."""
        return token is not None and token is not self._running

    def _load(self) -> tuple[Registry, int]:
        calls = self._source.calls()
        owned = getattr(self._source, "owns_calls", False) is True
        return build_registry(calls, options=self._service, owned=owned), len(calls)

    def _fail(
        self,
        error: ConfigError,
        token: object | None = None,
        current: tuple[Hashable, ConfigError | None] | None = None,
    ) -> None:
        old = self._state
        error.without_frames()  # last_error holds diagnostics, not the reload's frames
        self._publish(
            Snapshot(old.registry, old.generation, False, old.last_success_time, error, old.calls),
            token,
            current,
        )

    def _settle(self, error: ConfigError | None, token: object | None) -> None:
        old = self._state
        if error is not None:
            error.without_frames()
        self._publish(
            Snapshot(
                old.registry, old.generation, error is None, old.last_success_time, error, old.calls
            ),
            token,
        )

    def _publish(
        self,
        state: Snapshot,
        token: object | None,
        current: tuple[Hashable, ConfigError | None] | None = None,
    ) -> bool:
        """Make ``state`` what readers see, and ``current`` (fingerprint, error) what the
        tree is taken to hold; nothing of it for a stopped thread's late result."""
        with self._publish_lock:
            if token is not None and token is not self._running:
                return False  # stop() has returned: a later start() loads it again
            if current is not None:
                self._current, self._current_error = current
            self._state = state  # the one assignment readers ever observe
        # Outside the lock: a slow on_reload, or one that waits on the thread calling
        # stop(), must not hold stop() up. After stop() none starts (it joins the thread,
        # so one that passed this check runs before stop() returns, within its bound).
        callback = self._on_reload
        if callback is not None and (token is None or token is self._running):
            try:
                callback(state)
            except KeyboardInterrupt:
                raise
            except BaseException:  # a callback's failure must not stop reloads
                pass
        return True
