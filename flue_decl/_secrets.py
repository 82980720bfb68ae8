"""Secret values and masking.

API keys and credential-like header values are held as :class:`Secret` inside
flue-decl, so a ``repr`` of any internal structure, a log line or a traceback
shows ``***``. Values leave as plain strings only through the calls that
exist to hand them out (``Registry.api_key``, ``Model.to_dict``, ``--show-secrets``).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any, NoReturn

MASK = "***"

# Header names whose values are credentials (Authorization, x-api-key, api-key,
# x-goog-api-key, cookies, tokens ...).
_CREDENTIAL_HEADER = re.compile(
    r"authorization|api[-_]?key|token|secret|password|passwd|cookie|credential|signature|session",
    re.IGNORECASE,
)


def is_credential_header(name: str) -> bool:
    return bool(_CREDENTIAL_HEADER.search(name))


class Secret:
    """A string that never shows itself: ``repr``, ``str`` and formatting give ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(Secret)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


def reveal(value: Any) -> Any:
    """Deep copy of ``value`` with every Secret replaced by its plain string."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, Mapping):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(v) for v in value]
    return value


def mask_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (MASK if is_credential_header(k) and v else v) for k, v in headers.items()}


def mask_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A registration, settings or model dict with its key and credential headers masked."""
    out = dict(payload)
    if out.get("apiKey"):  # an empty key hides nothing; showing it says "no key"
        out["apiKey"] = MASK
    if isinstance(out.get("headers"), Mapping):
        out["headers"] = mask_headers(out["headers"])
    return out
