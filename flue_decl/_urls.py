"""URL and transport rules, shared by the checks (on literal and rendered values) and the
HTTP clients: what a usable base URL is, and when a key would travel in clear."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from ._domain import field_label, get_path
from ._errors import Diagnostic, JsonPath, Place
from ._secrets import query_credentials

T = TypeVar("T")

_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f]")

# The shape nearly every base URL has, which the full check below always accepts (ASCII
# host, a port up to 65535, no whitespace or control characters): decided with one match,
# since a service start checks every rendered URL. A property test holds the proof.
PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9][A-Za-z0-9.-]*"
    r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"(?:[/?#][!-~]*)?"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as ``urlsplit`` gives it) names this machine, in every spelling a
    WHATWG URL parser (Flue's ``fetch``, browsers) reads as loopback: ``localhost`` and its
    subdomains (a trailing dot too), 127.0.0.0/8 written in any IPv4 form (``127.1``,
    ``2130706433``, ``0x7f.1``), ``::1`` and ``::ffff:127.x.y.z``."""
    host = host.strip("[]").lower().removesuffix(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ipv4 = whatwg_ipv4(host)
    if ipv4 is not None:
        return ipv4 >> 24 == 127
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def whatwg_ipv4(host: str) -> int | None:
    """The address a WHATWG URL parser reads from an IPv4 host in any of its forms (1 to 4
    dot-separated numbers, each decimal, 0x-hex or 0-octal), or None if it is not one."""
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        base, digits = 10, part
        if part[:2] in ("0x", "0X"):
            base, digits = 16, part[2:]
        elif len(part) > 1 and part.startswith("0"):
            base, digits = 8, part[1:]
        if digits == "":
            numbers.append(0)
            continue
        try:
            numbers.append(int(digits, base))
        except ValueError:
            return None
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    address = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        address += number * 256 ** (3 - index)
    return address


def url_problem(value: str, *, any_scheme: bool = False) -> str | None:
    """Why ``value`` is not a usable base URL, or None. ``any_scheme``: the URL is handed to
    a custom protocol's handler, which may speak another scheme (``wss://``, a unix socket
    path): only http(s) URLs are then read as such."""
    if PLAIN_URL.fullmatch(value):
        return None
    if any_scheme and url_scheme(value) not in ("http", "https"):
        if not value.strip():
            return "the URL is empty"
        if _SPACE_OR_CONTROL.search(value):
            return "the URL contains whitespace or control characters"
        return None
    return full_url_problem(value)


def url_scheme(value: str) -> str:
    """The scheme of a base URL (lowercase), ``unix`` for an absolute path (a socket), or
    ``""`` if it has none."""
    if value.startswith("/"):
        return "unix"
    scheme, colon, _ = value.partition(":")
    return scheme.lower() if colon and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) else ""


def full_url_problem(value: str) -> str | None:
    """:func:`url_problem` without the shortcut for the common shape."""
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        # urllib's reason quotes parts of the URL, which may come from a secret variable.
        return "not a valid URL: its host or port cannot be read"
    if parts.scheme not in ("http", "https"):
        return "a base URL starts with https:// (or http:// for a local server)"
    if not parts.hostname:
        return "the URL has no host"
    if _SPACE_OR_CONTROL.search(value):
        return "the URL contains whitespace or control characters"
    if "\\" in parts.netloc:
        # WHATWG parsers (Flue's fetch) read `\` as `/` there, Python's does not: the two
        # would send to different hosts.
        return "a backslash in the host part is read differently by Flue and by Python"
    if "@" in parts.netloc:
        return (
            "a base URL cannot carry a user or password (user:password@host): put "
            "credentials in headers or apiKey"
        )
    return None


def insecure_transport(base_url: str) -> bool:
    """Whether a key sent to ``base_url`` would travel in clear off this machine."""
    try:
        parts = urllib.parse.urlsplit(base_url)
        host = parts.hostname or ""
    except ValueError:
        return False  # not a URL at all: reported as invalid-url, and nothing is ever sent
    return parts.scheme == "http" and not is_loopback(host)


def credential_routes(
    registered: Mapping[str, T],
    configured: Mapping[str, T],
    data: Callable[[T], Mapping[str, Any]],
    credentials: Callable[[T], Iterable[JsonPath]],
) -> Iterator[tuple[str, T, list[tuple[T, JsonPath]]]]:
    """``(provider, what supplies its baseUrl, [(what supplies it, path) of every
    credential it sends])`` for every provider that sends one. Each of the registration and
    the configuration is read with ``data``, its credential paths with ``credentials``;
    what is sent is the effective key (configureProvider's winning), the baseUrl in use
    if it carries one, and every other credential with a value."""
    for provider in dict.fromkeys([*registered, *configured]):
        reg, conf = registered.get(provider), configured.get(provider)
        url = conf if conf is not None and "baseUrl" in data(conf) else reg
        if url is None:
            continue
        key_owner = conf if conf is not None and "apiKey" in data(conf) else reg
        sent: list[tuple[T, JsonPath]] = []
        if key_owner is not None and data(key_owner).get("apiKey"):
            sent.append((key_owner, ("apiKey",)))
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
            and query_credentials(base_url)
            and (url, ("baseUrl",)) not in sent
        ):
            sent.append((url, ("baseUrl",)))
        if sent:
            yield provider, url, sent


def transport_diagnostic(
    base_url_place: Place | None,
    credentials: list[tuple[Place | None, JsonPath]],
    provider: str,
    path: JsonPath,
) -> Diagnostic:
    labels: dict[JsonPath, str] = {
        ("apiKey",): "its API key",
        ("baseUrl",): "the credentials in its base URL",
    }
    what = " and ".join(
        labels.get(p) or field_label(p) for p in dict.fromkeys(path for _, path in credentials)
    )
    return Diagnostic.at(
        "insecure-key-transport",
        f"provider `{provider}` would send {what} over plain http:// to a host that is "
        "not loopback",
        base_url_place,
        path,
        hint="use https://, or http:// for localhost; for a host on a trusted network, say "
        "allowPlainHttp: true",
        related=[place for place, _ in credentials if place is not None],
    )
