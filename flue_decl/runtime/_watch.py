"""Hot reload with last-known-good: a :class:`Watch` keeps a Registry current while serving.

A polling watcher of a :class:`Source` (``flue_decl.watch`` gives it a providers.d tree),
by content hash (not modification time: a Kubernetes ConfigMap keeps mtimes and swaps a
``..data`` symlink). A change is loaded only after two consecutive polls
saw the same bytes (a slow writer is not read half-way), and only if the tree still has
those bytes after loading (a change during the load waits for the next round). The whole
tree is validated before anything is swapped; a bad tree keeps the last good registry
serving and says why in ``last_error``. An empty tree never replaces a non-empty registry
unless ``allow_empty=True``.

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
from .._errors import ConfigError, Diagnostic
from ._build import build_registry, provider_ids
from ._registry import Registry


class Source(Protocol):
    """What a :class:`Watch` reloads from."""

    def fingerprint(self) -> Hashable | ConfigError:
        """A value that changes whenever the calls would (content hashes), or the
        ConfigError that stops reading it now."""
        ...

    def calls(self) -> tuple[Call, ...]:
        """The compiled calls, templates unrendered; raises ConfigError."""
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
        interval: float = 1.0,
        env: Mapping[str, str] | None = None,
        bindings: Mapping[str, Any] | None = None,
        import_handlers: bool = True,
        handler_modules: Sequence[str] | None = None,
        providers: Iterable[str] | None = None,
        secrets_dir: str | os.PathLike[str] | None = None,
        allow_empty: bool = False,
        on_reload: Callable[[Snapshot], None] | None = None,
    ) -> None:
        self._source = source
        self._interval = interval
        self._env = env
        self._bindings = bindings
        self._import_handlers = import_handlers
        self._handler_modules = handler_modules
        # Read once: every reload selects the same providers (a generator is not re-read).
        self._providers = None if providers is None else provider_ids(providers)
        self._secrets_dir = secrets_dir
        self._allow_empty = allow_empty
        self._on_reload = on_reload
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll_lock = threading.Lock()
        first = source.fingerprint()
        if isinstance(first, ConfigError):
            raise first
        registry, calls = self._load()  # the first tree must be good: raises otherwise
        self._current: Hashable = first
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
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="flue-decl-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, 2 * self._interval))
            self._thread = None

    def __enter__(self) -> Watch:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll_once()
            except BaseException as exc:
                self._fail(_failure(exc))

    def poll_once(self) -> bool:
        """One poll: returns True when a new registry was swapped in."""
        with self._poll_lock:
            seen = self._source.fingerprint()
            if isinstance(seen, ConfigError):
                self._pending = None
                self._fail(seen)
                return False
            if seen == self._current:
                self._pending = None
                if self._state.last_error is not self._current_error:
                    # Back to the bytes last loaded after a passing error (a directory
                    # moved away and back): say again what those bytes gave.
                    self._settle(self._current_error)
                return False
            if seen != self._pending:  # changed since the last poll: wait until it is stable
                self._pending = seen
                return False
            try:
                registry, calls = self._load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit from a handler too
                error = exc if isinstance(exc, ConfigError) else _failure(exc)
                self._current = seen  # do not retry the same bad bytes every poll
                self._current_error, self._pending = error, None
                self._fail(error)
                return False
            if self._source.fingerprint() != seen:  # changed while loading: next round
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
                self._current, self._current_error, self._pending = seen, error, None
                self._fail(error)
                return False
            self._current, self._current_error, self._pending = seen, None, None
            self._publish(
                Snapshot(registry, self._state.generation + 1, True, time.time(), None, calls)
            )
            return True

    def _load(self) -> tuple[Registry, int]:
        calls = self._source.calls()
        registry = build_registry(
            calls,
            env=self._env,
            bindings=self._bindings,
            import_handlers=self._import_handlers,
            handler_modules=self._handler_modules,
            providers=self._providers,
            secrets_dir=self._secrets_dir,
        )
        return registry, len(calls)

    def _fail(self, error: ConfigError) -> None:
        old = self._state
        self._publish(
            Snapshot(old.registry, old.generation, False, old.last_success_time, error, old.calls)
        )

    def _settle(self, error: ConfigError | None) -> None:
        old = self._state
        self._publish(
            Snapshot(
                old.registry, old.generation, error is None, old.last_success_time, error, old.calls
            )
        )

    def _publish(self, state: Snapshot) -> None:
        self._state = state  # the one assignment readers ever observe
        if self._on_reload is not None:
            try:
                self._on_reload(state)
            except KeyboardInterrupt:
                raise
            except BaseException:  # a callback's failure, whatever it is, must not stop reloads
                pass
