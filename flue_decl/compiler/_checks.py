"""Checks the schema cannot express: templates where they may be and parse, known APIs
and providers, usable base URLs, and keys that would travel in clear.

The URL and transport rules (``_urls``) run again on rendered values when a registry is
built, so a templated ``baseUrl`` gets the same treatment as a literal one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from .._catalog import CLOUDFLARE_AI_BINDING, PI_APIS, Catalog
from .._domain import ALLOW_PLAIN_HTTP, RESERVED_IDS, KindName, string_fields
from .._errors import Diagnostic, JsonPath, Severity, did_you_mean
from .._urls import (
    SURE_TLS,
    credential_routes,
    read_url,
    sent_in_clear,
    transport_diagnostic,
    url_problem,
)
from ..templates import (
    SECRET,
    check_syntax,
    credential_paths,
    is_template,
    references,
    render,
)
from ._layer import Entity
from ._schemafiles import known_keys


def check(
    entities: Sequence[Entity],
    catalog: Catalog,
    valid: Sequence[Entity],
    known_providers: Collection[str] = (),
) -> Iterator[Diagnostic]:
    """Per-entity checks run on every entity (each guards the types it reads), so a
    schema error elsewhere in a document hides nothing; the cross-entity transport
    check needs trustworthy shapes and sees only the schema-``valid`` ones.
    ``known_providers`` are registered by the service's own code: configurable too."""
    checks = Checks(entities, catalog, known_providers)
    for entity in entities:
        yield from checks(entity)
    yield from checks.transport(valid)


class Checks:
    """The checks of one tree's ``entities``: each entity's (called, in any order and any
    process: see ``_parallel``), then the transport rule on the valid ones."""

    def __init__(
        self, entities: Sequence[Entity], catalog: Catalog, known_providers: Collection[str]
    ) -> None:
        by_kind: dict[str, dict[str, Entity]] = {}
        for entity in entities:
            by_kind.setdefault(entity.kind, {})[entity.key] = entity
        self.catalog, self.known_providers = catalog, known_providers
        self.custom_apis = set(by_kind.get(KindName.API_PROVIDER, {}))
        self.apis = set(PI_APIS) | {CLOUDFLARE_AI_BINDING} | self.custom_apis
        self.registered = by_kind.get(KindName.PROVIDER, {})
        # A templated baseUrl is read twice: alone and for the transport rule.
        self.urls = _KnownUrls()

    def __call__(self, entity: Entity) -> Iterator[Diagnostic]:
        yield from _templates(entity)
        yield from _header_values(entity)
        providing = entity.kind in (KindName.PROVIDER, KindName.PROVIDER_CONFIGURATION)
        if providing and entity.key in RESERVED_IDS:
            yield (
                Diagnostic.at(
                    "reserved-id",
                    f"`{entity.key}` is a name every JavaScript object has (Object.prototype): "
                    "Flue's runtime would read inherited members for this provider, its key "
                    "from an environment variable named like `[object Object]`",
                    entity.place(("id",)),
                    ("id",),
                    hint="choose another provider ID",
                )
            )
        if entity.kind == KindName.PROVIDER:
            yield from _api_known(entity, self.apis)
        registered = self.registered
        if (
            entity.kind == KindName.PROVIDER_CONFIGURATION
            and entity.key not in registered
            and entity.key not in self.catalog.providers
            and entity.key not in self.known_providers
            and entity.key not in RESERVED_IDS  # said once, as reserved-id
        ):
            nearest = did_you_mean(entity.key, [*registered, *self.catalog.providers])
            yield (
                Diagnostic.at(
                    "unknown-provider",
                    f"configureProvider targets `{entity.key}`, which is neither a built-in "
                    "provider nor registered by a Provider document"
                    + (f" ({nearest})" if nearest else ""),
                    entity.place(("id",)),
                    ("id",),
                    hint=nearest
                    or "add a Provider document for it, check `flue-decl list --catalog`, or "
                    "if the service registers it in code, declare it: known_providers= / "
                    "--known-provider",
                )
            )
        custom = _custom_api(entity, registered, self.custom_apis)
        yield from _literal_urls(entity, custom, self.urls)
        if entity.data.get(ALLOW_PLAIN_HTTP) is True:
            yield (
                Diagnostic.at(
                    "plain-http-allowed",
                    f"`{entity.key}` may send its key and credential headers over plain "
                    "http:// to its base URL's host (allowPlainHttp: true)",
                    entity.place((ALLOW_PLAIN_HTTP,)),
                    (ALLOW_PLAIN_HTTP,),
                    severity=Severity.NOTE,
                    hint="keep it to hosts on a trusted network; remove it once the "
                    "provider has https://",
                )
            )

    def transport(self, valid: Sequence[Entity]) -> Iterator[Diagnostic]:
        valid_by_kind: dict[str, dict[str, Entity]] = {}
        for entity in valid:
            valid_by_kind.setdefault(entity.kind, {})[entity.key] = entity
        return _transport(
            valid_by_kind.get(KindName.PROVIDER, {}),
            valid_by_kind.get(KindName.PROVIDER_CONFIGURATION, {}),
            self.catalog,
            self.urls,
        )


def _templates(entity: Entity) -> Iterator[Diagnostic]:
    found = _templated(entity.data, ())
    if not found:
        return  # most entities: no field list to work out
    allowed = {path for path, _ in string_fields(entity.kind, entity.data)}
    known = known_keys(entity.kind)
    for path, value in found:
        if path and path[0] not in known:
            continue  # under an unknown key: the schema says what is wrong there
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


_HEADER_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")  # \0 \n \r: the schema says


def _header_values(entity: Entity) -> Iterator[Diagnostic]:
    """A header value (or its template's text) with a control character but TAB: sent as
    is it would drive whatever logs it, and a line break would split the request."""
    for path, value in string_fields(entity.kind, entity.data):
        if len(path) >= 2 and path[-2] == "headers" and _HEADER_CONTROL.search(value):
            found = _HEADER_CONTROL.search(value)
            assert found is not None
            yield Diagnostic.at(
                "invalid-header-value",
                f"header `{path[-1]}` holds the control character "
                f"U+{ord(found.group()):04X}",
                entity.place(path),
                path,
                hint="remove it (a value from a file with a trailing newline? use | trim)",
            )


_PLAIN = frozenset({int, float, bool, type(None)})  # what YAML gives besides str, dict, list


def _templated(
    value: Any, path: JsonPath, found: list[tuple[JsonPath, str]] | None = None
) -> list[tuple[JsonPath, str]]:
    """(path, text) of every template in ``value``, in order: strings, and keys (a key
    that is one is not looked into). Paths are made only for what is found; one list is
    filled on the way down (nested generators cost a frame per level for every item)."""
    if found is None:
        found = []
    if isinstance(value, str):
        if is_template(value):
            found.append((path, value))
    elif isinstance(value, dict | Mapping):
        for key, child in value.items():
            if is_template(key):
                found.append(((*path, key), key))
            elif type(child) is str:
                if "{" in child and is_template(child):
                    found.append(((*path, key), child))
            elif type(child) not in _PLAIN:
                _templated(child, (*path, key), found)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            if type(child) not in _PLAIN:
                _templated(child, (*path, i), found)
    return found


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


def _custom_api(entity: Entity, registered: Mapping[str, Entity], custom: set[str]) -> bool:
    """Whether the provider ``entity`` describes speaks a protocol an ApiProvider declares."""
    owner = entity if entity.kind == KindName.PROVIDER else registered.get(entity.key)
    api = owner.data.get("api") if owner is not None else None
    return isinstance(api, str) and api in custom  # checks run on invalid entities too


def _literal_urls(entity: Entity, custom_api: bool, urls: _KnownUrls) -> Iterator[Diagnostic]:
    value = entity.data.get("baseUrl")
    if not isinstance(value, str):
        return
    for url, when in urls(value):
        if when in (_UNSET, _EMPTY):
            continue  # a default may be meant never to be used: only its transport counts
        problem = url_problem(url, any_scheme=custom_api)
        if problem is not None:
            yield Diagnostic.at(
                "invalid-url",
                f"invalid baseUrl{when}: {problem}",  # not quoted: it may hold a password
                entity.place(("baseUrl",)),
                ("baseUrl",),
            )
            return


_UNSET = " when the variables of its template are not set"
_EMPTY = " when the variables of its template are empty"
_ANY = " with the variables of its template set, whatever they hold"
# Two placeholders that are a valid host, path or user name wherever a template puts them.
_PLACEHOLDERS = ("flue0decl0a", "flue0decl0b")


def _known_urls(value: str) -> list[tuple[str, str]]:
    """The base URLs ``value`` stands for that can be told without its variables, each with
    when it is the one: the literal itself; for a template, what it renders to with none of
    its variables set (its defaults) and with all of them empty, and, when the template's
    own text fixes the scheme, host and any user or password (the same for two different
    values of every variable), what it renders to with placeholders. A template that can
    turn into a URL in clear or one with a password is refused at validate like that
    literal URL."""
    if not is_template(value):
        return [(value, "")]
    out = []
    names = {
        (SECRET + ref.name if ref.kind == "secret" else ref.name) for ref in references(value)
    }
    for given, when in (({}, _UNSET), (dict.fromkeys(names, ""), _EMPTY)):
        rendered = render(value, given).value
        if rendered is not None:
            out.append((rendered, when))
    first, second = (render(value, dict.fromkeys(names, p)).value for p in _PLACEHOLDERS)
    one, two = (read_url(v) if v is not None else None for v in (first, second))
    if one is not None and two is not None and first is not None:
        fixed = (one.protocol, one.hostname) == (two.protocol, two.hostname)
        if fixed or one.username or one.password:
            out.append((first, _ANY))
    return out


class _KnownUrls(dict[str, list[tuple[str, str]]]):
    """:func:`_known_urls` of each value, worked out once per check."""

    def __call__(self, value: str) -> list[tuple[str, str]]:
        found = self.get(value)
        if found is None:
            found = self[value] = _known_urls(value)
        return found


def _transport(
    registered: Mapping[str, Entity],
    configured: Mapping[str, Entity],
    catalog: Catalog,
    urls: _KnownUrls,
) -> Iterator[Diagnostic]:
    """On the URLs known without rendering (see :func:`_known_urls`); templated ones are
    checked again after rendering. Only the providers whose registration or configuration
    has a base URL in clear have their routes worked out: no other can send in clear."""
    entities = (*registered.values(), *configured.values())
    allowed = {e.key for e in entities if e.data.get(ALLOW_PLAIN_HTTP) is True}
    clear = {
        e.key
        for e in entities
        if e.key not in allowed and isinstance(base := e.data.get("baseUrl"), str)
        if any(not url.startswith(SURE_TLS) and sent_in_clear(url) for url, _ in urls(base))
    }
    if not clear:
        return
    routes = credential_routes(
        {key: e for key, e in registered.items() if key in clear},
        {key: e for key, e in configured.items() if key in clear},
        _data,
        _credentials,
        catalog.runtime_credential,
    )
    for route in routes:
        base_url = route.url.data.get("baseUrl")
        if not isinstance(base_url, str):
            continue
        for url, when in urls(base_url):
            if sent_in_clear(url):
                yield transport_diagnostic(
                    route.url.place(("baseUrl",)),
                    [(owner.place(path), path) for owner, path in route.sent],
                    route.provider,
                    ("baseUrl",),
                    route.runtime_key,
                    when=when,
                )
                break


def _data(entity: Entity) -> Mapping[str, Any]:
    return entity.data


def _credentials(entity: Entity) -> list[JsonPath]:
    return credential_paths(entity.kind, entity.data)
