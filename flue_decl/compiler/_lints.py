"""Lints: likely mistakes in otherwise valid configuration (warnings; errors with --strict).

They run on schema-valid entities only, so each can trust the shapes it reads.
No message ever contains the value of a key: a literal secret is reported by
its place and its kind ("an OpenAI key"), never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from .._catalog import CLOUDFLARE_AI_BINDING, RESPONSES_APIS, Catalog
from .._domain import KindName, field_label, get_path, string_fields
from .._errors import Diagnostic, JsonPath, Severity, did_you_mean
from .._secrets import secret_kind, url_credentials
from .._urls import is_blank_key
from ..templates import credential_carriers, credential_paths, is_template, literal_key_in
from ._layer import Entity

W = Severity.WARNING

_FOREIGN = (
    (
        re.compile(r"\$\{\{\s*(?:secrets|env|vars)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}"),
        "GitHub Actions",
    ),
    (re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-[^}]*)?\}"), "shell / docker-compose"),
    (re.compile(r"(?<![\w$])\$([A-Z_][A-Z0-9_]{2,})\b"), "shell"),
    (re.compile(r"^os\.environ/([A-Za-z_][A-Za-z0-9_]*)$"), "LiteLLM"),
    (re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}"), "opencode"),
)
_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


def lint(entities: Sequence[Entity], catalog: Catalog) -> Iterator[Diagnostic]:
    """Lint every entity, whatever errors it has (each lint checks the types it reads):
    a document with an error shows its warnings in the same run."""
    for entity in entities:
        yield from lint_one(entity, entities, catalog)


def lint_one(entity: Entity, entities: Sequence[Entity], catalog: Catalog) -> Iterator[Diagnostic]:
    """The lints of ``entity``, one of the tree's ``entities``."""
    yield from _literal_secrets(entity)
    yield from _foreign_templates(entity)
    yield from _yaml11_booleans(entity)
    if entity.kind == KindName.PROVIDER:
        yield from _token_limits(entity)
        yield from _shadows(entity, catalog)
    if entity.kind == KindName.PROVIDER_CONFIGURATION:
        yield from _store_responses(entity, entities, catalog)


def _literal_secrets(entity: Entity) -> Iterator[Diagnostic]:
    for path in credential_carriers(entity.kind, entity.data):
        value = get_path(entity.data, path)
        if isinstance(value, str) and is_template(value):
            # A key written into the template itself: {{ 'sk-...' }}, default('<key>').
            looks = literal_key_in(path, value)
            if looks:
                yield Diagnostic.at(
                    "literal-secret",
                    f"{field_label(path)} holds a literal in its template that looks like "
                    f"{looks}",
                    entity.place(path),
                    path,
                    severity=W,
                    hint="read it from the environment: {{ env.NAME }}; compiled artifacts "
                    "refuse literal keys",
                )
            continue
        if is_blank_key(value) or foreign_syntax(value):
            continue  # blank holds nothing; foreign-template reports a misspelt reference
        if path == ("baseUrl",):
            names = ", ".join(f"`{n}`" for n in url_credentials(value))
            what, looks = f"the credential in baseUrl's query ({names})", None
        else:
            what, looks = field_label(path), secret_kind(value)
        yield Diagnostic.at(
            "literal-secret",
            f"{what} is written literally" + (f" and looks like {looks}" if looks else ""),
            entity.place(path),
            path,
            severity=W,
            hint="read it from the environment: {{ env.NAME }}; compiled artifacts refuse "
            "literal keys",
        )


def foreign_syntax(value: str) -> tuple[re.Match[str], str] | None:
    for pattern, tool in _FOREIGN:
        match = pattern.search(value)
        if match:
            return match, tool
    return None


def _foreign_templates(entity: Entity) -> Iterator[Diagnostic]:
    for path, value in string_fields(entity.kind, entity.data):
        found = foreign_syntax(value) if not is_template(value) else None
        if found is not None:
            match, tool = found
            # A credential would be sent as this literal text: that is an error.
            credential = path in credential_paths(entity.kind, entity.data)
            yield Diagnostic.at(
                "foreign-template",
                f"`{match.group(0)}` is {tool} syntax; flue-decl would "
                + ("send it literally as the credential" if credential else "use it literally"),
                entity.place(path),
                path,
                severity=Severity.ERROR if credential else W,
                hint=f"write {{{{ env.{match.group(1)} }}}}",
            )


def _yaml11_booleans(entity: Entity) -> Iterator[Diagnostic]:
    if not any(t[0] == "boolean" for d in entity.documents for t in d.places.texts):
        return  # an entity's texts are its documents': its places need not be made
    for path, (kind, raw) in entity.typed_scalars.items():  # in the file's order
        if kind == "boolean" and raw.lower() in _YAML11_BOOLEANS:
            yield Diagnostic.at(
                "yaml11-boolean",
                f"`{raw}` is read as {str(raw.lower() in ('yes', 'on', 'y')).lower()} "
                "(a YAML 1.1 boolean)",
                entity.place(path),
                path,
                severity=W,
                hint="write true or false, or quote it if you meant the word",
            )


def _token_limits(entity: Entity) -> Iterator[Diagnostic]:
    data = entity.data
    default_ctx, default_max = data.get("contextWindow"), data.get("maxTokens")
    # Token counts are ints, not booleans (`contextWindow: yes` is the schema's error).
    if type(default_ctx) is int and type(default_max) is int and 0 < default_ctx < default_max:
        yield _limit(entity, ("maxTokens",), default_max, default_ctx, "provider default")
    models = data.get("models")
    for model, override in models.items() if isinstance(models, Mapping) else ():
        if not isinstance(override, Mapping):
            continue
        ctx = override.get("contextWindow", default_ctx)
        mx = override.get("maxTokens", default_max)
        if (
            type(ctx) is int
            and type(mx) is int
            and 0 < ctx < mx
            and ("contextWindow" in override or "maxTokens" in override)
        ):
            where = (
                ("models", model, "maxTokens")
                if "maxTokens" in override
                else ("models", model, "contextWindow")
            )
            yield _limit(entity, where, mx, ctx, f"model `{model}`")


def _limit(entity: Entity, path: JsonPath, mx: int, ctx: int, what: str) -> Diagnostic:
    return Diagnostic.at(
        "max-tokens-exceeds-context",
        f"{what}: maxTokens {mx} is larger than contextWindow {ctx}",
        entity.place(path),
        path,
        severity=W,
        hint="maxTokens is the output limit and cannot exceed the context window",
    )


def _shadows(entity: Entity, catalog: Catalog) -> Iterator[Diagnostic]:
    builtin = catalog.models(entity.key)
    if not builtin:
        return
    yield Diagnostic.at(
        "shadows-builtin",
        f"registering `{entity.key}` replaces the built-in provider and its {len(builtin)} "
        "catalog models for every specifier `" + entity.key + "/...`",
        entity.place(("id",)),
        ("id",),
        severity=W,
        hint="to change only the endpoint, headers or key, use kind: ProviderConfiguration; "
        "otherwise pick another id",
    )
    if entity.data.get("api") == CLOUDFLARE_AI_BINDING:
        return
    models = entity.data.get("models")
    for model in models if isinstance(models, Mapping) else ():
        if model not in builtin:
            yield Diagnostic.at(
                "unknown-catalog-model",
                f"`{entity.key}` has no model `{model}` in the built-in catalog",
                entity.key_place(("models", model)),
                ("models", model),
                severity=W,
                hint=did_you_mean(model, list(builtin))
                or f"see `flue-decl list --catalog` for {entity.key}'s models",
            )


def _store_responses(
    entity: Entity, entities: Sequence[Entity], catalog: Catalog
) -> Iterator[Diagnostic]:
    if entity.data.get("storeResponses") is not True:
        return
    registered = next(
        (e for e in entities if e.kind == KindName.PROVIDER and e.key == entity.key), None
    )
    if registered is not None:
        api = registered.data.get("api")
        if not isinstance(api, str):
            return  # the schema reports it
        apis = {api}
    else:
        apis = {m["api"] for m in catalog.models(entity.key).values()}
    if not apis & set(RESPONSES_APIS):
        yield Diagnostic.at(
            "store-responses-ignored",
            f"storeResponses has no effect on `{entity.key}`: its models use "
            f"{', '.join(sorted(str(a) for a in apis))}",
            entity.place(("storeResponses",)),
            ("storeResponses",),
            severity=W,
            hint="only openai-responses and azure-openai-responses models store responses",
        )
