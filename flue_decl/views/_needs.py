"""``needs``: every environment variable and secret file a tree needs to load, from the
effective calls (after layering: a template an overlay replaced is not read), and the keys
Flue's runtime reads by itself for providers given no ``apiKey``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .._catalog import Catalog
from .._domain import KINDS, Call, Op, string_fields
from .._secrets import is_credential_name
from ..runtime._build import select_calls
from ..templates import SECRET, is_credential, is_template, references, render

_KIND_OF = {kind.op: name for name, kind in KINDS.items()}  # what a call was written as


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
    for call in calls:
        data = call.payload
        if call.op != Op.REGISTER_API_PROVIDER:
            given = data.get("apiKey") is not None
            keyed[call.target] = keyed.get(call.target, False) or given
        for path, source in string_fields(_KIND_OF[call.op], data):
            if not is_template(source):
                continue
            read = references(source)
            for ref in read:
                add(
                    ref.kind,
                    ref.name,
                    call.target,
                    required=_required(source, ref.kind, ref.name, read),
                    credential=is_credential(path, source)
                    or ref.kind == "secret"
                    or is_credential_name(ref.name),
                    builtin=False,
                )
    for provider, given in keyed.items():
        if given or (providers is not None and provider not in providers):
            continue
        for name in catalog.api_key_env(provider):
            add("env", name, provider, required=False, credential=True, builtin=True)
    return [
        Need(kind, name, tuple(sorted(e["providers"])), **{k: e[k] for k in _FLAGS})
        for (kind, name), e in sorted(found.items())
    ]


_FLAGS = ("required", "credential", "builtin")


def _required(source: str, kind: str, name: str, read: Sequence[Any]) -> bool:
    """Whether ``source`` fails to render without ``name`` when everything else it reads
    is set: no ``default`` (or ``is defined``) covers it."""

    def key(ref_kind: str, ref_name: str) -> str:
        return SECRET + ref_name if ref_kind == "secret" else ref_name

    others = {key(r.kind, r.name): "x" for r in read if (r.kind, r.name) != (kind, name)}
    return key(kind, name) in render(source, others).missing
