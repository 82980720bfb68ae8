"""Keys from the environment, as pi-ai's ``getEnvApiKey`` finds them, the part of an
environment a registry keeps for that lookup, and the key a request carries."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

from .._catalog import AUTHENTICATED, CLOUDFLARE_AI_BINDING, Catalog
from .._errors import JsonPath
from .._secrets import Secret, is_credential_name, reveal
from .._urls import is_blank_key
from ._model import json_copy

# What pi-ai's key lookup reads: the catalog's key variables (every one ends in _API_KEY or
# _TOKEN; a test checks the shipped catalog) and the SDK credentials of Bedrock and Vertex.
_SDK_ENV = frozenset(
    {
        "AWS_PROFILE",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
        "HOME",
        # Azure's requests, read by pi-ai when it sends (clients and openai_kwargs)
        "AZURE_OPENAI_API_VERSION",
        "AZURE_OPENAI_BASE_URL",
        "AZURE_OPENAI_RESOURCE_NAME",
    }
)


def needed_for_keys(name: str) -> bool:
    """Whether the key lookup may read the environment variable ``name``."""
    # CLOUDFLARE_*: the account and gateway pi-ai fills into Cloudflare base URLs.
    return name.endswith(("_API_KEY", "_TOKEN")) or name in _SDK_ENV or name.startswith(
        "CLOUDFLARE_"
    )


class KeyEnvironment(Mapping[str, str]):
    """The variables of an environment that the key lookup may read, held as Secrets: a
    registry never keeps the rest (database passwords, tokens of other tools ...), and
    what it keeps shows as ``***`` in any ``repr``, copy or ``vars()``."""

    __slots__ = ("_values",)

    def __init__(self, env: Mapping[str, str]) -> None:
        self._values = {k: Secret(v) for k, v in env.items() if needed_for_keys(k)}

    def __getitem__(self, name: str) -> str:
        return self._values[name].reveal()

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"KeyEnvironment({sorted(self._values)})"



_BEDROCK_ENV = (
    "AWS_PROFILE",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)
_BEDROCK_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
_VERTEX_ENV = (
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
)


def env_keys_read(provider: str, catalog: Catalog) -> tuple[str, ...]:
    """Every environment variable :func:`env_api_key` may read for ``provider``: its key
    variables, and for Bedrock and Vertex the SDK credentials' (``needs`` lists them)."""
    names = catalog.api_key_env(provider)
    if provider == "amazon-bedrock":
        names = (*names, *_BEDROCK_ENV, *_BEDROCK_KEYS)
    elif provider == "google-vertex":
        names = (*names, *_VERTEX_ENV)
    return names


def env_api_key(provider: str, env: Mapping[str, str], catalog: Catalog) -> str | None:
    """pi-ai's ``getEnvApiKey``: the first *non-empty* variable of the provider's list.

    pi-ai tests variables with ``||``, so an empty value counts as unset here
    (unlike an empty ``apiKey`` in configuration, which ``??`` keeps). Vertex
    and Bedrock report ``<authenticated>`` when SDK credentials are present.
    """
    for name in catalog.api_key_env(provider):
        value = env.get(name)
        if value:
            return value
    if provider == "google-vertex":
        explicit = env.get("GOOGLE_APPLICATION_CREDENTIALS")
        if explicit:
            has_credentials = os.path.exists(explicit)
        else:
            # node's os.homedir() takes HOME as it is, even empty, and path.join normalises
            # lexically ("/x/missing/.." is "/x"): so does this, or the answers would differ.
            home = env["HOME"] if "HOME" in env else os.path.expanduser("~")
            adc = ".config/gcloud/application_default_credentials.json"
            has_credentials = os.path.exists(posixpath.normpath(posixpath.join(home, adc)))
        has_project = bool(env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCLOUD_PROJECT"))
        if has_credentials and has_project and env.get("GOOGLE_CLOUD_LOCATION"):
            return AUTHENTICATED
    if provider == "amazon-bedrock" and (
        any(env.get(name) for name in _BEDROCK_ENV)
        or all(env.get(name) for name in _BEDROCK_KEYS)
    ):
        return AUTHENTICATED
    return None



def key_to_send(
    provider: str,
    settings: Mapping[str, Any] | None,
    registration: Mapping[str, Any] | None,
    env: Mapping[str, str],
    catalog: Catalog,
) -> str | None:
    """The key a request carries, as Flue's agent and pi-ai choose it when they send: the
    configured ``apiKey`` (null and empty included: Flue tests ``!== undefined``), else the
    registered one (a Cloudflare binding has none); one that is absent, empty or
    whitespace gives way to the environment's key for the provider (a whitespace-only one
    with no environment key is still sent, blank, as pi-ai sends it). None: no key, and
    pi-ai sends nothing."""
    if settings is not None and "apiKey" in settings:
        declared = settings["apiKey"]
    elif registration is not None and registration.get("api") != CLOUDFLARE_AI_BINDING:
        declared = registration.get("apiKey")
    else:
        declared = None
    key = reveal(declared) if declared is not None else None
    if is_blank_key(key):
        key = env_api_key(provider, env, catalog) or key
    # A whitespace-only key still goes (pi-ai tests it with `||`): as a blank header value.
    return key if isinstance(key, str) and key else None


def protect(
    payload: Mapping[str, Any], credentials: frozenset[JsonPath], *, copy: bool = True
) -> dict[str, Any]:
    """Copy a registration or settings dict, wrapping its secrets: the key, credential-named
    headers and every field at a ``credentials`` path. ``copy=False`` is for data nobody
    else holds (decoded from an artifact just now): only what changes is copied."""
    out: dict[str, Any] = json_copy(payload) if copy else dict(payload)
    if isinstance(out.get("apiKey"), str):
        out["apiKey"] = Secret(out["apiKey"])
    headers = out.get("headers")
    if isinstance(headers, dict):
        out["headers"] = {
            k: Secret(v) if isinstance(v, str) and is_credential_name(k) else v
            for k, v in headers.items()
        }
    for path in credentials:
        if len(path) > 1 or path == ("baseUrl",):  # apiKey is done
            out = _wrapped(out, path)
    return out


def _wrapped(data: Any, path: JsonPath) -> Any:
    """``data`` with the string at ``path`` (if there is one) as a Secret; the containers
    along the path are new."""
    if not isinstance(data, Mapping) or path[0] not in data:
        return data
    value = data[path[0]]
    out = dict(data)
    if len(path) > 1:
        out[path[0]] = _wrapped(value, path[1:])
    elif isinstance(value, str):
        out[path[0]] = Secret(value)
    return out
