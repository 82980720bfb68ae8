"""The interface a custom wire protocol (an ApiProvider ``handler``) implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable


@runtime_checkable
class WireProtocol(Protocol):
    """What an ApiProvider ``handler`` implements for flue-decl's clients and ``probe``.

    ``auth_headers(api_key)`` returns the headers that authenticate a request (empty when
    there is no key); ``probe_path`` (optional) is a cheap GET, relative to the base URL;
    ``url_schemes`` (optional, default ``("http", "https")``) the base URL schemes its
    providers may use (``"wss"``, ``"unix"`` for a socket path): the handler, not
    flue-decl's HTTP clients, speaks the others.
    """

    def auth_headers(self, api_key: str | None) -> Mapping[str, str]:
        """The headers that carry ``api_key`` (empty when there is none)."""
        ...
