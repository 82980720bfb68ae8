"""Secret values and masking.

API keys and credential-like header values are held as :class:`Secret` inside
flue-decl, so a ``repr`` of any internal structure, a log line or a traceback
shows ``***``. Values leave as plain strings only through the calls that
exist to hand them out (``Registry.api_key``, ``Model.to_dict``, ``--show-secrets``).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

MASK = "***"

# The one rule for which names hold a credential (header names, variable names, query
# and path parameters), used by checks, lints, masking, the artifact and the clients, and
# written into the emitted module as this same data (see ``is_credential_name``).
#
# A name is a credential's when one of its words is one of these (a plural too). Words,
# not substrings: `Ocp-Apim-Subscription-Key` holds a key, `Monkey` does not; names run
# together in lowercase are listed whole (`authtoken`, `clientsecret`).
CREDENTIAL_WORDS = frozenset(
    {
        "accesskey",
        "accesstoken",
        "apikey",
        "apisecret",
        "apitoken",
        "auth",
        "authkey",
        "authtoken",
        "bearertoken",
        "clientsecret",
        "authentication",
        "authorization",
        "cookie",
        "credential",
        "jwt",
        "idtoken",
        "key",
        "pass",
        "passphrase",
        "passwd",
        "password",
        "privatekey",
        "pwd",
        "refreshtoken",
        "secret",
        "secretkey",
        "session",
        "sessiontoken",
        "sig",
        "signature",
        "token",
    }
)
# ... unless its last word says it names where or what a secret is, not the secret itself
# (`XIAOMI_TOKEN_PLAN_AMS_CFG_URL`, `AWS_ACCESS_KEY_ID`, `TOKEN_ENDPOINT`) ...
DESCRIBING_WORDS = frozenset(
    {
        "endpoint",
        "expires",
        "expiry",
        "file",
        "host",
        "hostname",
        "id",
        "name",
        "path",
        "region",
        "timeout",
        "ttl",
        "type",
        "uri",
        "url",
        "version",
    }
)
# ... or one of its words says it counts something (`maxTokens`, `X-Token-Count`).
QUANTITY_WORDS = frozenset({"count", "length", "limit", "max", "min", "num", "number", "size"})
# Words split at separators, at a lower-to-upper change, after an acronym and around
# digits: X-Api-Key, x_api_key, xApiKey, X-APIToken, AZURE_KEY1, key2.
WORD_BOUNDARY = (
    r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])"
    r"|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])"
)
_WORD_BOUNDARY = re.compile(WORD_BOUNDARY)


# Recognisable key shapes: prefix and a readable name (no value is ever printed).
_KEY_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"^sk-ant-[A-Za-z0-9_-]{8,}", "an Anthropic key"),
        (r"^sk-or-[A-Za-z0-9_-]{8,}", "an OpenRouter key"),
        (r"^sk-(proj-)?[A-Za-z0-9_-]{16,}", "an OpenAI-style key"),
        (r"^AIza[0-9A-Za-z_-]{20,}", "a Google API key"),
        (r"^(AKIA|ASIA)[0-9A-Z]{16}$", "an AWS access key ID"),
        (r"^gsk_[A-Za-z0-9]{16,}", "a Groq key"),
        (r"^xai-[A-Za-z0-9]{16,}", "an xAI key"),
        (r"^hf_[A-Za-z0-9]{16,}", "a Hugging Face token"),
        (r"^gh[pousr]_[A-Za-z0-9]{20,}", "a GitHub token"),
    )
)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def secret_kind(value: str, *, by_entropy: bool = True) -> str | None:
    """What a literal credential looks like, or None if it does not look like one: a known
    key shape, or (``by_entropy``) a long random-looking string."""
    token = value.rsplit(maxsplit=1)[-1] if value.split() else value  # "Bearer sk-..." -> "sk-..."
    for pattern, name in _KEY_SHAPES:
        if pattern.match(token):
            return name
    if by_entropy and len(token) >= 20 and entropy(token) >= 3.5:
        return "a long random-looking string"
    return None


_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{16,}")
_HEX = re.compile(r"[0-9a-f]{32,}|[0-9A-F]{32,}")


def scrub(text: str, verbatim: tuple[str, ...] = ()) -> str:
    """``text`` with every key-shaped token replaced by ``***``: a message that quotes a
    value (a key pasted into the wrong field, say) never carries the key. Tokens inside a
    ``verbatim`` text are kept: a model specifier the caller asked for is not a secret,
    however random its model ID looks."""

    def mask(match: re.Match[str]) -> str:
        token = match.group(0)
        if any(token in kept for kept in verbatim):
            return token
        for pattern, _ in _KEY_SHAPES:
            if pattern.match(token):
                return MASK
        if len(token) < 32:
            return token
        digits = any(c.isdigit() for c in token)
        if digits and _HEX.fullmatch(token) and any(c.isalpha() for c in token):
            return MASK  # a hex key (Azure and many gateways use 32 hex characters)
        mixed = digits and any(c.isupper() for c in token) and any(c.islower() for c in token)
        return MASK if mixed and entropy(token) >= 4.0 else token

    return _TOKEN.sub(mask, text)


@functools.lru_cache(maxsize=1024)  # a tree repeats the same few header names
def is_credential_name(name: str) -> bool:
    """Whether a header, variable or parameter named ``name`` holds a credential: one of
    its words is in CREDENTIAL_WORDS (``tokens`` counts as ``token``), its last word is
    not in DESCRIBING_WORDS and none is in QUANTITY_WORDS."""
    words = [_singular(w.lower()) for w in _WORD_BOUNDARY.split(name) if w]
    if not words or words[-1] in DESCRIBING_WORDS:
        return False
    if any(word in QUANTITY_WORDS for word in words):
        return False
    return any(word in CREDENTIAL_WORDS for word in words)


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and word[:-1] in CREDENTIAL_WORDS else word


# Up to the last `@` of the authority, as the WHATWG parser reads it: in
# `https://bob:pa@ss@h/` the password is `pa@ss`.
USERINFO = r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@"
_USERINFO = re.compile(USERINFO)


def _query(url: str) -> tuple[str, str, str]:
    """``url`` cut into (before the query, the query, from the fragment on)."""
    head, mark, rest = url.partition("?")
    if not mark:
        return head, "", ""
    query, hash_, fragment = rest.partition("#")
    return head, query, hash_ + fragment


# `;name=value` parameters in a URL's path (`/v1;key=...`), which some gateways read.
PATH_PARAMETER = r";([^;/?#=]*)=([^;/?#]*)"
_PATH_PARAMETER = re.compile(PATH_PARAMETER)


def _credential_parameter(name: str, value: str) -> bool:
    import urllib.parse  # here: every command imports this module (3 ms with ipaddress)

    return bool(value) and is_credential_name(urllib.parse.unquote_plus(name))


def url_credentials(url: str) -> list[str]:
    """Names of the parameters of ``url`` that carry a credential, named like one and with
    a value: in its query (``?key=...``, ``?access_token=...``, ``?sig=...``) or in its
    path (``/v1;key=...``)."""
    head, query, _ = _query(url)
    in_path = [(m.group(1), m.group(2)) for m in _PATH_PARAMETER.finditer(head)]
    in_query = [p.partition("=")[::2] for p in query.split("&")] if query else []
    return [name for name, value in (*in_path, *in_query) if _credential_parameter(name, value)]


def mask_url(url: str) -> str:
    """``url`` as it may be shown: any userinfo (``user:password@``) and the values of its
    credential parameters (query or path) replaced by ``***``."""
    head, query, tail = _query(url)
    head = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", head, count=1)
    head = _PATH_PARAMETER.sub(
        lambda m: f";{m.group(1)}={MASK}" if _credential_parameter(*m.groups()) else m.group(0),
        head,
    )
    if not query:
        return head + ("?" if "?" in url else "") + tail
    shown = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        shown.append(f"{name}={MASK}" if _credential_parameter(name, value) else part)
    return f"{head}?{'&'.join(shown)}{tail}"


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
        import hmac  # here: every command imports this module

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
    return {k: (MASK if is_credential_name(k) and v else v) for k, v in headers.items()}


def mask_payload(
    payload: Mapping[str, Any], credentials: Iterable[tuple[str | int, ...]] = ()
) -> dict[str, Any]:
    """A registration, settings or model dict as it may be shown: its key, credential
    headers and the fields at the ``credentials`` paths as ``***``, its baseUrl through
    :func:`mask_url`, and any Secret inside as ``***``."""
    out: dict[str, Any] = _shown(payload)
    if out.get("apiKey"):  # an empty key hides nothing; showing it says "no key"
        out["apiKey"] = MASK
    if isinstance(out.get("headers"), Mapping):
        out["headers"] = mask_headers(out["headers"])
    if isinstance(out.get("baseUrl"), str):
        out["baseUrl"] = mask_url(out["baseUrl"])
    for path in credentials:
        parent: Any = out
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, Mapping) else None
        if isinstance(parent, dict) and parent.get(path[-1]):
            parent[path[-1]] = MASK
    return out


def _shown(value: Any) -> Any:
    """A fresh copy of JSON-shaped ``value`` with every Secret as ``***``."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Mapping):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    return value
