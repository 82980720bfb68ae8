"""How a service loads a registry: one options object for ``load_registry``, ``watch``,
``load_artifact`` and ``build_registry``.

Each of those functions takes ``options=ServiceOptions(...)`` and, as before, the same
names as keywords; a keyword given (not None) wins over the field of the same name. So
a service writes its options once and passes them to every load::

    options = ServiceOptions(env=os.environ, handler_modules=["myapp.protocols"])
    registry = load_registry("providers.d", options=options)
    live = watch("providers.d", options=options, interval=5)
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NoReturn

_FIELDS = (
    "env",
    "bindings",
    "import_handlers",
    "handler_modules",
    "known_providers",
    "providers",
    "secrets_dir",
    "verify_key",
)


class ServiceOptions:
    """What a service's loads share (each field as the keyword of the same name):

    ``env``: the environment templates read and keys are looked up in (None:
    ``os.environ``, read then). ``bindings``: Cloudflare binding names to the host's
    objects. ``import_handlers``: import ApiProvider handlers (from ``handler_modules``,
    module prefixes; None: ``FLUE_DECL_HANDLER_MODULES``). ``known_providers``: IDs the
    service registers in code. ``providers``: serve only these. ``secrets_dir``: where
    ``secret.NAME`` is read. ``verify_key``: the key an artifact must be signed with.

    Immutable. It holds credentials (the environment, the key), so nothing shows them:
    its ``repr`` names the variables of ``env`` by count, pickling is refused, and it is
    no dataclass (``dataclasses.asdict`` would copy them out); two options are equal only
    if they are the same object.
    """

    __slots__ = _FIELDS

    env: Mapping[str, str] | None
    bindings: Mapping[str, Any] | None
    import_handlers: bool
    handler_modules: tuple[str, ...] | None
    known_providers: tuple[str, ...] | None
    providers: tuple[str, ...] | None
    secrets_dir: str | None
    verify_key: str | bytes | None

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        bindings: Mapping[str, Any] | None = None,
        import_handlers: bool | None = True,
        handler_modules: Sequence[str] | None = None,
        known_providers: Collection[str] | None = None,
        providers: Iterable[str] | None = None,
        secrets_dir: str | os.PathLike[str] | None = None,
        verify_key: str | bytes | None = None,
    ) -> None:
        values = {
            "env": env,
            "bindings": bindings,
            # None is "not given" everywhere: the default, True.
            "import_handlers": True if import_handlers is None else bool(import_handlers),
            "handler_modules": _names(handler_modules, "handler_modules", "module prefixes"),
            "known_providers": _names(known_providers, "known_providers", "provider IDs"),
            "providers": _names(providers, "providers", "provider IDs"),
            "secrets_dir": None if secrets_dir is None else os.fspath(secrets_dir),
            "verify_key": verify_key,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ServiceOptions is immutable: make new ones with merged()")

    def __copy__(self) -> ServiceOptions:
        return self  # immutable: a copy is the same options

    def __deepcopy__(self, memo: dict[int, Any]) -> ServiceOptions:
        return self

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("ServiceOptions holds credentials and is not pickled")

    @classmethod
    def given(cls, options: ServiceOptions | None, **keywords: Any) -> ServiceOptions:
        """``options`` (None: the defaults) with every keyword given (not None) in its
        place: how each load reads its ``options=`` and keywords together."""
        return (options or cls()).merged(**keywords)

    def merged(self, **given: Any) -> ServiceOptions:
        """These options with every keyword that was given (not None) in its place."""
        fields = {name: getattr(self, name) for name in _FIELDS}
        fields.update({k: v for k, v in given.items() if v is not None})
        return ServiceOptions(**fields)

    def __repr__(self) -> str:
        shown = []
        for name in _FIELDS:
            value = getattr(self, name, None)  # a half-built one (its __init__ refused)
            if value is None or (name == "import_handlers" and value is True):
                continue
            if name == "env":
                value = _Count(len(value))
            elif name == "verify_key":
                value = _Count(None)
            elif name == "bindings":
                value = sorted(map(str, value))
            shown.append(f"{name}={value!r}")
        return f"ServiceOptions({', '.join(shown)})"


class _Count:
    """How ``repr`` shows a mapping of secrets: its size, or only that it is set."""

    def __init__(self, size: int | None) -> None:
        self.size = size

    def __repr__(self) -> str:
        return "***" if self.size is None else f"<{self.size} variables>"


def _names(value: Any, name: str, what: str) -> tuple[str, ...] | None:
    """A list of names as a tuple, read once (a generator too); a string would be a list
    of letters."""
    if value is None:
        return None
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} is a list of {what}, not a string")
    names = tuple(value)
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{name} holds {what} (strings)")
    return names
