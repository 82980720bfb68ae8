"""The `acme-rpc` protocol named by providers.d/50-acme-rpc.yaml.

flue-decl imports `acme_llm.protocols:AcmeRpc` when a service loads the
registry; the class decides its own auth and request shape.
"""

from __future__ import annotations


class AcmeRpc:
    """Implements flue_decl.WireProtocol: how requests authenticate, and a cheap probe."""

    api = "acme-rpc"
    probe_path = "health"  # what `flue-decl probe` GETs, relative to the base URL

    @staticmethod
    def auth_headers(api_key: str | None) -> dict[str, str]:
        return {"X-Acme-Key": api_key} if api_key else {}
