"""Stage 5: checks the schema cannot express (contract section 3).

Each check takes the layered entities and yields diagnostics; the same URL and
transport checks run again on rendered values at load time, so a templated
``baseUrl`` gets the same treatment as a literal one.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._catalog import CLOUDFLARE_AI_BINDING, PI_APIS, Catalog
from ._errors import Diagnostic, JsonPath, Place, did_you_mean
from ._render import check_syntax, is_template, template_paths

if TYPE_CHECKING:
    from ._layer import Entity

Side = Literal["reg", "conf"]


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f]")


# The shape nearly every base URL has, which the full check below always accepts (ASCII
# host, a port up to 65535, no whitespace or control characters): decided with one match,
# since a service start checks every rendered URL. tests/test_render.py holds the proof.
PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9][A-Za-z0-9.-]*"
    r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"(?:[/?#][!-~]*)?"
)


def url_problem(value: str) -> str | None:
    """Why ``value`` is not a usable base URL, or None."""
    if PLAIN_URL.fullmatch(value):
        return None
    return full_url_problem(value)


def full_url_problem(value: str) -> str | None:
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "a base URL starts with https:// (or http:// for a local server)"
    if not parts.hostname:
        return "the URL has no host"
    if _SPACE_OR_CONTROL.search(value):
        return "the URL contains whitespace or control characters"
    return None


def insecure_transport(base_url: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(base_url)
        host = parts.hostname or ""
    except ValueError:
        return False  # not a URL at all: reported as invalid-url, and nothing is ever sent
    return parts.scheme == "http" and not is_loopback(host)


def check(
    entities: Sequence[Entity], catalog: Catalog, valid: Sequence[Entity]
) -> list[Diagnostic]:
    """Per-entity checks run on every entity (each guards the types it reads), so a
    schema error elsewhere in a document hides nothing; the cross-entity transport
    check needs trustworthy shapes and sees only the schema-``valid`` ones."""
    out: list[Diagnostic] = []
    by_kind: dict[str, dict[str, Entity]] = {}
    for entity in entities:
        by_kind.setdefault(entity.kind, {})[entity.key] = entity
    valid_by_kind: dict[str, dict[str, Entity]] = {}
    for entity in valid:
        valid_by_kind.setdefault(entity.kind, {})[entity.key] = entity
    apis = set(PI_APIS) | {CLOUDFLARE_AI_BINDING} | set(by_kind.get("ApiProvider", {}))
    registered = by_kind.get("Provider", {})
    for entity in entities:
        out.extend(_templates(entity))
        if entity.kind == "Provider":
            out.extend(_api_known(entity, apis))
        if (
            entity.kind == "ProviderConfiguration"
            and entity.key not in registered
            and entity.key not in catalog.providers
        ):
            out.append(
                Diagnostic.at(
                    "unknown-provider",
                    f"configureProvider targets `{entity.key}`, which is neither a built-in "
                    "provider nor registered by a Provider document",
                    entity.place(("id",)),
                    ("id",),
                    hint=did_you_mean(entity.key, [*registered, *catalog.providers])
                    or "add a Provider document for it, or check `flue-decl list --catalog`",
                )
            )
        out.extend(_literal_urls(entity))
    out.extend(
        _transport(
            valid_by_kind.get("Provider", {}), valid_by_kind.get("ProviderConfiguration", {})
        )
    )
    return out


def _templates(entity: Entity) -> Iterator[Diagnostic]:
    allowed = set(template_paths(entity.kind, entity.data))
    for path, value in _strings(entity.data, ()):
        if not is_template(value) and not (path and is_template(path[-1])):
            continue
        if path in allowed:
            problem = check_syntax(value)
            if problem is not None:
                yield Diagnostic.at(
                    problem.code, problem.message, entity.place(path), path, hint=problem.hint
                )
        else:
            field = path[-1] if path else "value"
            yield Diagnostic.at(
                "template-not-allowed",
                f"`{field}` cannot be a template",
                entity.key_place(path) if is_template(path[-1]) else entity.place(path),
                path,
                hint="templates are allowed in baseUrl, apiKey, header values and gateway "
                "strings; keys, kind, id, api and model IDs are literal",
            )


def _strings(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, child in value.items():
            if is_template(key):
                yield (*path, key), key
            else:
                yield from _strings(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _strings(child, (*path, i))


def _api_known(entity: Entity, apis: set[str]) -> Iterator[Diagnostic]:
    api = entity.data.get("api")
    if isinstance(api, str) and api not in apis and not is_template(api):
        yield Diagnostic.at(
            "unknown-api",
            f"api `{api}` is not one of Pi's APIs, cloudflare-ai-binding, or declared by an "
            "ApiProvider document",
            entity.place(("api",)),
            ("api",),
            hint=did_you_mean(api, sorted(apis))
            or f"declare it with `kind: ApiProvider` and `api: {api}`",
        )


def _literal_urls(entity: Entity) -> Iterator[Diagnostic]:
    value = entity.data.get("baseUrl")
    if isinstance(value, str) and not is_template(value):
        problem = url_problem(value)
        if problem is not None:
            yield Diagnostic.at(
                "invalid-url",
                f"invalid baseUrl {value!r}: {problem}",
                entity.place(("baseUrl",)),
                ("baseUrl",),
            )


def transport_diagnostic(
    base_url_place: Place, key_place: Place | None, provider: str, path: JsonPath
) -> Diagnostic:
    return Diagnostic.at(
        "insecure-key-transport",
        f"provider `{provider}` would send its API key over plain http:// to a host that is "
        "not loopback",
        base_url_place,
        path,
        hint="use https://, or http:// only for localhost / 127.0.0.1 / ::1",
        related=[key_place] if key_place else [],
    )


def transport_owners(
    reg: Mapping[str, Any] | None, conf: Mapping[str, Any] | None
) -> tuple[Side | None, Side | None]:
    """Which of a provider's registration and configuration supplies the effective
    ``baseUrl`` and which the key (configureProvider wins for each field it sets)."""
    url: Side | None = (
        "conf" if conf is not None and "baseUrl" in conf else ("reg" if reg is not None else None)
    )
    if conf is not None and "apiKey" in conf:
        return url, "conf"
    return url, ("reg" if reg is not None and "apiKey" in reg else None)


def _transport(
    registered: Mapping[str, Entity], configured: Mapping[str, Entity]
) -> Iterator[Diagnostic]:
    """Static check on literal URLs; templated ones are checked again after rendering."""
    for provider in dict.fromkeys([*registered, *configured]):
        reg, conf = registered.get(provider), configured.get(provider)
        sides = {"reg": reg, "conf": conf}
        url_side, key_side = transport_owners(
            reg.data if reg else None, conf.data if conf else None
        )
        url_owner = sides[url_side] if url_side else None
        key_owner = sides[key_side] if key_side else None
        if url_owner is None or key_owner is None:
            continue
        base_url = url_owner.data.get("baseUrl")
        key = key_owner.data.get("apiKey")
        if not isinstance(base_url, str) or is_template(base_url) or key == "":
            continue
        if insecure_transport(base_url):
            yield transport_diagnostic(
                url_owner.place(("baseUrl",)), key_owner.place(("apiKey",)), provider, ("baseUrl",)
            )
