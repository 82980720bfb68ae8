"""``needs``: every environment variable and secret file a tree needs to load, from the
effective calls (after layering: a template an overlay replaced is not read), and the keys
Flue's runtime reads by itself for providers given no ``apiKey``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .._catalog import Catalog
from .._domain import Call, Op, string_fields
from .._secrets import is_credential_name
from ..runtime._build import select_calls
from ..runtime._keys import env_keys_read
from ..templates import credential_carriers, is_template, references, render


@dataclass(frozen=True, slots=True)
class Need:
    """One environment variable (``env``) or secret file (``secret``) the tree reads."""

    kind: str
    name: str
    providers: tuple[str, ...]  # sorted
    required: bool  # some reference has no default (never for a builtin key)
    credential: bool  # as masking decides: it feeds a credential, or is named like one
    builtin: bool  # the runtime reads it by itself (a provider given no apiKey)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "providers": list(self.providers),
            "required": self.required,
            "credential": self.credential,
        }
        if self.kind == "env":
            out["builtin"] = self.builtin
        return out


def needs(
    calls: Sequence[Call], catalog: Catalog, providers: Collection[str] | None = None
) -> list[Need]:
    """What loading ``calls`` (of ``providers`` only, when given) reads, sorted by kind
    and name."""
    if providers is not None:
        calls = select_calls(calls, list(providers), catalog)
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def add(
        kind: str, name: str, provider: str, *, required: bool, credential: bool, builtin: bool
    ) -> None:
        entry = found.setdefault(
            (kind, name),
            {"providers": set(), "required": False, "credential": False, "builtin": False},
        )
        entry["providers"].add(provider)
        entry["required"] |= required
        entry["credential"] |= credential
        entry["builtin"] |= builtin

    keyed: dict[str, bool] = {}  # provider -> some call gives it an apiKey
    if providers is not None:  # a built-in asked for, configured or not, reads its keys
        keyed.update((p, False) for p in providers if p in catalog.providers)
    for call in calls:
        data = call.payload
        kind = call.kind.name
        if call.op != Op.REGISTER_API_PROVIDER:
            given = data.get("apiKey") is not None
            keyed[call.target] = keyed.get(call.target, False) or given
        carriers = set(credential_carriers(kind, data))  # masking's rule, baseUrl's query too
        for path, source in string_fields(kind, data):
            if not is_template(source):
                continue
            missing = set(render(source, {}).missing)  # with nothing set: what has no default
            for ref in references(source):
                add(
                    ref.kind,
                    ref.name,
                    call.target,
                    required=ref.key in missing,
                    credential=path in carriers
                    or ref.kind == "secret"
                    or is_credential_name(ref.name),
                    builtin=False,
                )
    for provider, given in keyed.items():
        if given or (providers is not None and provider not in providers):
            continue
        for name in env_keys_read(provider, catalog):
            add("env", name, provider, required=False, credential=True, builtin=True)
    return [
        Need(kind, name, tuple(sorted(e["providers"])), **{k: e[k] for k in _FLAGS})
        for (kind, name), e in sorted(found.items())
    ]


_FLAGS = ("required", "credential", "builtin")
