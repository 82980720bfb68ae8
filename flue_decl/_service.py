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

import dataclasses
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, repr=False)
class ServiceOptions:
    """What a service's loads share (each field as the keyword of the same name):

    ``env``: the environment templates read and keys are looked up in (None:
    ``os.environ``, read then). ``bindings``: Cloudflare binding names to the host's
    objects. ``import_handlers``: import ApiProvider handlers (from ``handler_modules``,
    module prefixes; None: ``FLUE_DECL_HANDLER_MODULES``). ``known_providers``: IDs the
    service registers in code. ``providers``: serve only these. ``secrets_dir``: where
    ``secret.NAME`` is read. ``verify_key``: the key an artifact must be signed with.

    Its ``repr`` names the variables of ``env`` by count and never shows ``verify_key``.
    """

    env: Mapping[str, str] | None = None
    bindings: Mapping[str, Any] | None = None
    import_handlers: bool = True
    handler_modules: tuple[str, ...] | None = None
    known_providers: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    secrets_dir: str | None = None
    verify_key: str | bytes | None = None

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        bindings: Mapping[str, Any] | None = None,
        import_handlers: bool = True,
        handler_modules: Sequence[str] | None = None,
        known_providers: Collection[str] | None = None,
        providers: Iterable[str] | None = None,
        secrets_dir: str | os.PathLike[str] | None = None,
        verify_key: str | bytes | None = None,
    ) -> None:
        values = {
            "env": env,
            "bindings": bindings,
            "import_handlers": bool(import_handlers),
            "handler_modules": _names(handler_modules, "handler_modules", "module prefixes"),
            "known_providers": _names(known_providers, "known_providers", "provider IDs"),
            "providers": _names(providers, "providers", "provider IDs"),
            "secrets_dir": None if secrets_dir is None else os.fspath(secrets_dir),
            "verify_key": verify_key,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def merged(self, **given: Any) -> ServiceOptions:
        """These options with every keyword that was given (not None) in its place."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields.update({k: v for k, v in given.items() if v is not None})
        return ServiceOptions(**fields)

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            if f.name == "env":
                value = _Count(len(value))
            elif f.name == "verify_key":
                value = _Count(None)
            elif f.name == "bindings":
                value = sorted(value)
            shown.append(f"{f.name}={value!r}")
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
