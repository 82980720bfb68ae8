"""URL and transport rules, shared by the checks (on literal and rendered values) and the
HTTP clients: what a usable base URL is, and when a key would travel in clear.

URLs are read as Flue's ``fetch`` reads them: by Ada (``ada-url``), the WHATWG URL parser
inside Node.js itself, so validate, a Python service and the emitted module agree on which
URLs are valid and which host each names (a shared corpus, WPT's URL tests among it, is
run through this module and the emitted module's reader in node)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._domain import field_label, get_path
from ._errors import Diagnostic, JsonPath, Place
from ._memo import TREE_SIZED, memo
from ._secrets import url_credentials

T = TypeVar("T")

# The patterns below are written once, here, and into the emitted module as they are
# (Python's and JavaScript's regular expressions read them alike): one reading of URLs.
#
# Whitespace and control characters, refused in a base URL on purpose (a WHATWG parser
# would drop some and keep others): C0, space, DEL, C1 and Unicode's spaces, spelled out
# since Python's \s and JavaScript's \s differ.
URL_REFUSED_CHARS = (
    r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
)
# What no rendered value but a baseUrl (its own rule above) may hold: a line break would
# start a header of its own, a control drive whatever logs it. The Python loader and the
# emitted module both read this one pattern.
RENDERED_CONTROL = r"[\x00-\x1f\x7f]"
_SPACE_OR_CONTROL = re.compile(URL_REFUSED_CHARS)
# `scheme://` then the host: WHATWG also reads `https:host` and `https:///host` as
# https://host/, which no one means to write; refused on purpose.
URL_AUTHORITY = r"^[A-Za-z][A-Za-z0-9+.\-]*://(?![/\\])"
_AUTHORITY = re.compile(URL_AUTHORITY)

# Loopback, decided on the host as the WHATWG URL parser serializes it (lowercase, IDNA
# applied, IPv4 in dotted decimal whatever way it was written, IPv6 compressed in
# brackets): `localhost` and names under it (a trailing dot too), 127.0.0.0/8, `::1`, and
# `::ffff:127.0.0.0/104`. One rule, written into the emitted module as this same pattern.
# A `{VAR}` in the host is filled in by pi-ai for some providers: never loopback.
LOOPBACK_HOST = (
    r"(?:localhost|[^{}]+\.localhost)\.?"
    r"|127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"
    r"|\[::1\]"
    r"|\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]"
)
_LOOPBACK = re.compile(LOOPBACK_HOST)


@dataclass(frozen=True, slots=True)
class Url:
    """A URL as Flue's ``fetch`` reads it (Ada, the WHATWG parser inside Node.js): the
    serialized ``href``, ``protocol`` (``"https:"``), ``hostname`` (in its WHATWG
    serialization: ``[::1]``, ``127.0.0.1`` for ``127.1``), ``username`` and ``password``."""

    href: str
    protocol: str
    hostname: str
    username: str
    password: str


def read_url(value: str) -> Url | None:
    """``value`` read by the WHATWG URL parser, or None where ``new URL(value)`` throws."""
    fields = _read(value)
    return None if fields is None else Url(*fields)


# A service checks the same few URLs again and again. The cache holds plain tuples of
# strings, which CPython's cyclic collector stops tracking: a registry's worth of them
# adds nothing to a full collection's pause.
@memo(TREE_SIZED)
def _read(value: str) -> tuple[str, str, str, str, str] | None:
    import ada_url  # here: most URLs are plain (_PLAIN), and a service may read none

    try:  # the parts read in one call: a URL object's attributes cost a Python call each
        parts = ada_url.parse_url(value, attributes=_PARTS)
    except ValueError:
        return None
    hostname = parts["hostname"]
    if "xn--" in hostname and not all(map(_decodes, hostname.split("."))):
        return None
    return (parts["href"], parts["protocol"], hostname, parts["username"], parts["password"])


_PARTS = ("href", "protocol", "hostname", "username", "password")


def _decodes(label: str) -> bool:
    """Whether an ``xn--`` label decodes as Node's Ada decodes it: Punycode that gives a
    label which encodes back to itself (``xn--pokxncvks`` decodes to characters that IDNA
    maps to others: WPT and Node refuse it, the ada-url binding's Ada lets it through), or
    plain ASCII (``xn--abc-``, which Node accepts). Code points newer Unicode versions added
    may still be read differently by the two Adas; neither reading sends anything to a
    host the other would not."""
    if not label.startswith("xn--"):
        return True
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return False
    if not decoded or _SURROGATE.search(decoded):
        return False  # a lone surrogate is no code point: Node refuses the URL
    return decoded.isascii() or _idna(decoded) == label


_SURROGATE = re.compile("[\ud800-\udfff]")


def _idna(label: str) -> str:
    import ada_url

    encoded: str | bytes = ada_url.idna_to_ascii(label)
    return encoded.decode("ascii", "replace") if isinstance(encoded, bytes) else encoded


def is_loopback_host(hostname: str) -> bool:
    """Whether a WHATWG-serialized ``hostname`` names this machine (see LOOPBACK_HOST)."""
    return _LOOPBACK.fullmatch(hostname) is not None


def is_loopback(address: str) -> bool:
    """Whether the host of the URL ``address`` (``http://127.1:8080``) is loopback, as Flue's
    ``fetch`` would read it; False for what is not a URL."""
    url = read_url(address)
    return url is not None and is_loopback_host(url.hostname)


# A base URL every rule below accepts, told without the parser: http(s), a host name whose
# last label starts with a letter (no IPv4 number) and no xn-- label, a port in range, a
# path of unreserved characters. Most are; a test compares this with the rules.
_PLAIN = re.compile(
    r"(?!.*[xX][nN]-)https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*"
    r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"(?:/[A-Za-z0-9._~/-]*)?"
)


def url_problem(value: str, *, any_scheme: bool = False) -> str | None:
    """Why ``value`` is not a usable base URL, or None: every URL ``new URL`` rejects, a
    scheme other than http(s), and on purpose whitespace or control characters, a
    backslash, a user or password, and a host not written right after ``scheme://``.
    ``any_scheme``: the URL is handed to a custom protocol's handler, which may speak
    another scheme (``wss://``, a unix socket path): only http(s) URLs are then read."""
    if _PLAIN.fullmatch(value) is not None:
        return None
    return read_problem(value, any_scheme=any_scheme)


def read_problem(value: str, *, any_scheme: bool = False) -> str | None:
    """:func:`url_problem` by the rules alone, every URL read by the parser."""
    if any_scheme and url_scheme(value) not in ("http", "https"):
        if not value:
            return "the URL is empty"
        if _SPACE_OR_CONTROL.search(value):
            return "the URL contains whitespace or control characters"
        return None
    if _SPACE_OR_CONTROL.search(value):
        return "the URL contains whitespace or control characters"
    url = read_url(value)
    if url is None:
        # Never the parser's words: they could quote a part that came from a secret.
        return "not a valid URL (as Flue's fetch reads URLs)"
    if url.protocol not in ("http:", "https:"):
        return "a base URL starts with https:// (or http:// for a local server)"
    if not _AUTHORITY.match(value):
        return "write the host right after https:// (or http://)"
    if "\\" in value:
        # WHATWG parsers read `\` as `/`, most other tools do not: refused, not guessed.
        return "a backslash, which URL readers disagree on"
    if url.username or url.password:
        return (
            "a base URL cannot carry a user or password (user:password@host): put "
            "credentials in headers or apiKey"
        )
    return None


def url_scheme(value: str) -> str:
    """The scheme of a base URL (lowercase), ``unix`` for an absolute path (a socket), or
    ``""`` if it has none."""
    if value.startswith("/"):
        return "unix"
    scheme, colon, _ = value.partition(":")
    return scheme.lower() if colon and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) else ""


# Schemes that carry everything in clear (a custom protocol may speak ws://).
CLEAR_PROTOCOLS = ("http:", "ws:")
# A string that starts with this is read as an https: URL or not at all (the WHATWG
# parser strips only leading spaces and controls, and removes tabs and newlines): nothing
# sent to it travels in clear, and the transport rule need not read it.
SURE_TLS = "https://"


def insecure_transport(base_url: str) -> bool:
    """Whether a key sent to ``base_url`` would travel in clear off this machine."""
    url = read_url(base_url)
    if url is None:
        return False  # not a URL at all: reported as invalid-url, and nothing is ever sent
    return url.protocol in CLEAR_PROTOCOLS and not is_loopback_host(url.hostname)


def sent_in_clear(base_url: str) -> bool:
    """:func:`insecure_transport` for a base URL a check has accepted: one that
    :func:`url_problem` refuses is reported as that, and never used."""
    return url_problem(base_url, any_scheme=True) is None and insecure_transport(base_url)


# What JavaScript's String.prototype.trim() removes: pi-ai takes a key that trims to ""
# for no key at all, and reads the provider's environment key instead.
JS_WHITESPACE = (
    "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def is_blank_key(value: Any) -> bool:
    """Whether pi-ai would take the ``apiKey`` ``value`` for none (absent, not a string, or
    whitespace only) and send the key it finds in the environment instead."""
    return not isinstance(value, str) or not value.strip(JS_WHITESPACE)


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    """What a provider sends with every request: ``url`` supplies its base URL; ``sent``
    the credentials of its documents, as (owner, path); ``runtime_key`` what Flue's
    runtime adds by itself when no key is given (``GROQ_API_KEY``), else None."""

    provider: str
    url: T
    sent: list[tuple[T, JsonPath]]
    runtime_key: str | None


def credential_routes(
    registered: Mapping[str, T],
    configured: Mapping[str, T],
    data: Callable[[T], Mapping[str, Any]],
    credentials: Callable[[T], Iterable[JsonPath]],
    runtime_key: Callable[[str, str | None, bool], str | None],
) -> Iterator[Route[T]]:
    """A :class:`Route` for every provider that sends a credential. Each of the
    registration and the configuration is read with ``data``, its credential paths with
    ``credentials``; what is sent is the effective key (configureProvider's winning) or,
    beside it what ``runtime_key(id, api, keyed)`` says the runtime sends by itself for the
    provider (``api``: the registration's, None for a built-in; ``keyed``: a non-blank key
    is set); the baseUrl in use if it carries one; and every other credential with a
    value."""
    for provider in dict.fromkeys([*registered, *configured]):
        reg, conf = registered.get(provider), configured.get(provider)
        # A null is no value, as in resolution (JavaScript's undefined): the other's holds.
        url = conf if conf is not None and data(conf).get("baseUrl") is not None else reg
        if url is None:
            continue
        key_owner = conf if conf is not None and data(conf).get("apiKey") is not None else reg
        key = data(key_owner).get("apiKey") if key_owner is not None else None
        sent: list[tuple[T, JsonPath]] = []
        keyed = False
        if key_owner is not None and not is_blank_key(key):
            keyed = True
            sent.append((key_owner, ("apiKey",)))
        api = data(reg).get("api") if reg is not None else None
        from_runtime = runtime_key(provider, api if isinstance(api, str) else None, keyed)
        for owner in (reg, conf):
            if owner is None:
                continue
            for path in credentials(owner):
                if path == ("apiKey",) or (path == ("baseUrl",) and owner is not url):
                    continue  # only the effective key, and the baseUrl in use
                value = get_path(data(owner), path)
                if isinstance(value, str) and value:
                    sent.append((owner, path))
        base_url = data(url).get("baseUrl")
        if (
            isinstance(base_url, str)
            and url_credentials(base_url)
            and (url, ("baseUrl",)) not in sent
        ):
            sent.append((url, ("baseUrl",)))
        if sent or from_runtime:
            yield Route(provider, url, sent, from_runtime)


def transport_diagnostic(
    base_url_place: Place | None,
    credentials: list[tuple[Place | None, JsonPath]],
    provider: str,
    path: JsonPath,
    runtime_key: str | None = None,
    *,
    when: str = "",
) -> Diagnostic:
    """``insecure-key-transport`` for ``provider``; ``when`` says under which condition the
    URL is the one in clear (a template's default, say)."""
    labels: dict[JsonPath, str] = {
        ("apiKey",): "its API key",
        ("baseUrl",): "the credentials in its base URL",
    }
    what = [labels.get(p) or field_label(p) for p in dict.fromkeys(p for _, p in credentials)]
    if runtime_key:
        what.insert(0, f"the credentials Flue's runtime sends by itself ({runtime_key})")
    return Diagnostic.at(
        "insecure-key-transport",
        f"provider `{provider}` would send {' and '.join(what)} over plain http:// to a host "
        f"that is not loopback{when}",
        base_url_place,
        path,
        hint="use https://, or http:// for localhost; for a host on a trusted network, say "
        "allowPlainHttp: true",
        related=[place for place, _ in credentials if place is not None],
    )
