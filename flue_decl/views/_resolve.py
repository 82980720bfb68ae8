"""What ``resolve`` shows for one specifier: replay.mjs's result shape."""

from __future__ import annotations

from typing import Any

from .._catalog import AUTHENTICATED
from .._errors import ResolveError
from .._secrets import MASK
from ..runtime import Registry


def shown_key(key: str | None, *, show_secrets: bool) -> str | None:
    """A key as output shows it: ``***`` unless asked, but "none" and SDK credentials
    (``<authenticated>``) as they are: they hold no secret."""
    return key if show_secrets or not key or key == AUTHENTICATED else MASK


def resolve_result(registry: Registry, spec: str, *, show_secrets: bool = False) -> dict[str, Any]:
    """``{"spec", "ok", "model", "apiKey", "storeResponses"}`` for a specifier that resolves,
    ``{"spec", "ok": false, "error"}`` (the runtime's message) for one that does not. The
    key and credential headers are masked unless ``show_secrets``."""
    try:
        resolved = registry.resolve_model(spec)
    except ResolveError as exc:
        return {"spec": spec, "ok": False, "error": exc.diagnostics[0].message}
    model = resolved.to_dict() if show_secrets else resolved.masked()
    key = registry.api_key(spec)
    return {
        "spec": spec,
        "ok": True,
        "model": model,
        "apiKey": shown_key(key, show_secrets=show_secrets),
        "storeResponses": registry.store_responses(spec),
    }
