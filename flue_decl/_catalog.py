"""The built-in catalog: pi-ai 0.79.10's providers and models, shipped as package data."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The wire protocols pi-ai ships (the ``api`` slugs of the catalog).
PI_APIS = (
    "openai-completions",
    "openai-responses",
    "azure-openai-responses",
    "openai-codex-responses",
    "anthropic-messages",
    "bedrock-converse-stream",
    "google-generative-ai",
    "google-vertex",
    "mistral-conversations",
)
# The APIs whose requests send ``store`` (configureProvider's ``storeResponses``).
RESPONSES_APIS = ("openai-responses", "azure-openai-responses")
CLOUDFLARE_AI_BINDING = "cloudflare-ai-binding"
# What pi-ai gives as the key of a provider whose SDK finds credentials itself (Vertex's
# application default credentials, Bedrock's AWS chain): nothing to put in a header.
AUTHENTICATED = "<authenticated>"
CLOUDFLARE_CATALOG = "cloudflare-workers-ai"
# Credentials the SDK behind an API finds by itself, whatever the provider's ID: pi-ai's
# Bedrock provider signs every request with the environment's AWS credentials (an apiKey
# or not), its Vertex provider sends Google's application default credentials when no key
# is given. API -> (sent even with a key, what they are).
SDK_CREDENTIALS = {
    "bedrock-converse-stream": (True, "the AWS credentials of the environment"),
    "google-vertex": (False, "Google application default credentials"),
}


@dataclass(frozen=True, slots=True)
class Catalog:
    """Built-in providers and their models, as pi-ai ships them: ``providers[id]`` holds
    ``models`` (by model ID, each the runtime's Model JSON) and ``apiKeyEnv`` (the
    environment variables pi-ai reads the provider's key from, in order)."""

    source: str
    providers: Mapping[str, Mapping[str, Any]]

    def get_model(self, provider: str, model_id: str) -> Mapping[str, Any] | None:
        entry = self.providers.get(provider)
        if entry is None:
            return None
        model: Mapping[str, Any] | None = entry["models"].get(model_id)
        return model

    def models(self, provider: str) -> Mapping[str, Mapping[str, Any]]:
        entry = self.providers.get(provider)
        return entry["models"] if entry else {}

    def api_key_env(self, provider: str) -> tuple[str, ...]:
        entry = self.providers.get(provider)
        return tuple(entry["apiKeyEnv"]) if entry else ()

    def api_of(self, provider: str) -> str | None:
        """The wire protocol of a built-in provider's models (one per provider)."""
        for model in self.models(provider).values():
            return str(model["api"])
        return None

    def runtime_credential(
        self, provider: str, api: str | None = None, keyed: bool = False
    ) -> str | None:
        """What Flue's runtime sends by itself for the provider ``provider`` speaking
        ``api`` (default: the built-in provider's), as words for a message, or None: with
        no key (``keyed`` false) the environment key pi-ai's ``getEnvApiKey`` finds for the
        ID (built in or registered under it), and the credentials an API's SDK finds itself
        (Bedrock's even with a key)."""
        found = []
        if not keyed and self.api_key_env(provider):
            found.append(" or ".join(self.api_key_env(provider)))
        always, what = SDK_CREDENTIALS.get(api or self.api_of(provider) or "", (False, ""))
        if what and (always or not keyed):
            found.append(what)
        return " or ".join(found) or None


@functools.cache
def builtin_catalog() -> Catalog:
    """The catalog shipped with flue-decl (regenerated from the pinned runtime by
    ``make catalog``); read once, on first use."""
    # Next to this module in a checkout and in the wheel alike; importlib.resources would
    # cost a service ~7 ms of imports at start for the same file.
    path = os.path.join(os.path.dirname(__file__), "_data", "catalog.json")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    data = json.loads(text)
    return Catalog(data["source"], data["providers"])
