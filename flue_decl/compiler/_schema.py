"""JSON Schema validation, each error mapped back to its node.

The schemas in ``schemas/`` are the one source of truth; the wheel carries
them as ``flue_decl/schemas``. jsonschema's messages are rewritten into
diagnostics with a stable code, the exact key or value at fault, and a hint.

A compiled yes/no check (``_fastcheck``) answers for valid documents; jsonschema, ~170 ms
to import, is loaded only when a document fails it, to find and word the errors.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._domain import KINDS, KindName
from .._errors import Diagnostic, JsonPath, Place, did_you_mean
from ..templates import is_credential
from ._fastcheck import compile_checks
from ._scalars import implicit_text
from ._schemafiles import known_keys, load_schemas, schema_file

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as SchemaError

MAX_SCHEMA_ERRORS = 200  # per document: what is shown is 100 a file (``_pipeline``)
MAX_UNKNOWN_KEYS = 20  # per mapping: a typo list is useful, 60,000 of them are not
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


@functools.cache
def _validators() -> dict[str, Draft202012Validator]:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    # The schema files carry no $id and refer to each other by relative file name, so an
    # editor resolves them next to the file; here each is registered under that name.
    schemas = load_schemas()
    registry: Registry[Any] = Registry().with_resources(
        (schema_file(name), Resource.from_contents(schema)) for name, schema in schemas.items()
    )
    return {
        name: Draft202012Validator(schemas[kind.schema], registry=registry)
        for name, kind in KINDS.items()
    }


@dataclass(frozen=True, slots=True)
class Located:
    """What the schema stage needs to know about a document: its data and places."""

    data: Any
    place: Callable[[JsonPath], Place]
    key_place: Callable[[JsonPath], Place]
    typed_scalars: Mapping[JsonPath, tuple[str, str]]
    removed: Mapping[JsonPath, Place] = field(default_factory=dict)
    broken: frozenset[JsonPath] = frozenset()


@functools.cache
def _fast_checks() -> dict[str, Callable[[Any], bool]] | None:
    files = {schema_file(name): schema for name, schema in load_schemas().items()}
    return compile_checks(files, {name: schema_file(kind.schema) for name, kind in KINDS.items()})


def validate(kind: str, doc: Located) -> list[Diagnostic]:
    # Valid documents are the common case and are answered without jsonschema; anything
    # else goes to jsonschema, which finds and words the errors (see _fastcheck).
    out = list(_removals(kind, doc))
    fast = _fast_checks()
    if fast is not None and fast[kind](doc.data):
        return out
    validator = _validators()[kind]
    # jsonschema's errors are big objects: a dense file with an error in every entry
    # would hold hundreds of megabytes of them, and take minutes, to show its first 100.
    found = list(itertools.islice(validator.iter_errors(doc.data), MAX_SCHEMA_ERRORS + 1))
    errors = sorted(found[:MAX_SCHEMA_ERRORS], key=lambda e: [str(p) for p in e.path])
    for error in errors:
        out.extend(_diagnose(kind, error, doc))
    if len(found) > MAX_SCHEMA_ERRORS:
        out.append(
            Diagnostic.at(
                "too-many-problems",
                f"the schema check of this document stopped after {MAX_SCHEMA_ERRORS} errors",
                doc.place(()),
                (),
                hint="fix the ones shown and run again",
            )
        )
    return out


def _removals(kind: str, doc: Located) -> Iterator[Diagnostic]:
    """An overlay's `null` for a key the kind does not have removes nothing: a misspelt
    removal (`contextWindw: null`) must not pass in silence."""
    known = known_keys(kind)
    for path in doc.removed:  # its place read only when shown: see _layer._Removed
        if len(path) == 1 and isinstance(path[0], str) and path[0] not in known:
            yield Diagnostic.at(
                "unknown-key",
                f"unknown key `{path[0]}` in a {kind} document (an overlay removes it with null)",
                doc.removed[path],
                path,
                hint=did_you_mean(path[0], sorted(known))
                or f"allowed keys: {', '.join(sorted(known))}",
            )


def _misspelt(missing: str, error: SchemaError) -> bool:
    """Whether an unknown key of the object is a near miss of ``missing`` (`baseURL`): then
    the unknown-key diagnostic, with its did-you-mean, is the one worth reading."""
    if not isinstance(error.instance, Mapping):
        return False
    known = set(_schema_of(error).get("properties", {}))
    return any(
        isinstance(key, str) and key not in known and did_you_mean(key, [missing])
        for key in error.instance
    )


def _schema_of(error: SchemaError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def _leaves(error: SchemaError) -> Iterator[SchemaError]:
    # oneOf/anyOf failures report the most relevant branch, not the whole tree.
    custom = _schema_of(error).get("errorMessage")
    if custom and not isinstance(error.instance, dict | list):
        yield error  # a scalar that fits no branch: the schema's own message says it best
        return
    if error.validator in ("oneOf", "anyOf") and error.context:
        # The branch for the value's type (the mapping form of `false | mapping`) says
        # what is wrong inside it, at the field at fault.
        branches: Any = error.validator_value
        fitting = [i for i, b in enumerate(branches) if _type_fits(b, error.instance)]
        if len(fitting) == 1:
            inside = [e for e in error.context if e.relative_schema_path[0] == fitting[0]]
            if inside:
                for sub in inside:
                    yield from _leaves(sub)
                return
        from jsonschema.exceptions import best_match

        best = best_match(error.context)
        if best is not None:
            yield from _leaves(best)
            return
    yield error


_CONFIGURATION = "configureProvider's settings belong in a `kind: ProviderConfiguration` "
_REGISTRATION = "a provider's registration is a `kind: Provider` document"
# Keys that belong to another kind of document, or that people nest by mistake.
_API, _REG, _CONF = KindName.API_PROVIDER, KindName.PROVIDER, KindName.PROVIDER_CONFIGURATION
_ELSEWHERE: dict[tuple[str, str], str] = {
    (_REG, "storeResponses"): _CONFIGURATION + "document with the same id",
    (_REG, "handler"): "a handler belongs in a `kind: ApiProvider` document, with `api:`",
    (_REG, "registration"): "a Provider document is the registration itself: write its "
    "keys (api, baseUrl, apiKey, ...) at the top level",
    (_REG, "settings"): _CONFIGURATION + "document",
    (_CONF, "settings"): "a ProviderConfiguration document is the settings "
    "themselves: write baseUrl, apiKey, headers or storeResponses at the top level",
    (_CONF, "api"): _REGISTRATION + "; a configuration changes only baseUrl, "
    "apiKey, headers and storeResponses",
    (_CONF, "models"): _REGISTRATION + " (per-model limits are registered)",
    (_CONF, "contextWindow"): _REGISTRATION + " (limits are registered)",
    (_CONF, "maxTokens"): _REGISTRATION + " (limits are registered)",
    (_API, "id"): "an ApiProvider is named by `api:` (the slug Provider documents use)",
}
_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _type_fits(branch: Any, instance: Any) -> bool:
    if not isinstance(branch, Mapping):
        return False
    if "const" in branch:
        return type(branch["const"]) is type(instance)
    declared = branch.get("type")
    names = [declared] if isinstance(declared, str) else list(declared or [])
    return any(isinstance(instance, _JSON_TYPES[n]) for n in names if n in _JSON_TYPES)


def _diagnose(kind: str, top: SchemaError, doc: Located) -> Iterator[Diagnostic]:
    for error in _leaves(top):
        path: JsonPath = tuple(error.absolute_path)
        if any(path[: len(b)] == b for b in doc.broken):
            continue  # the parser already said what is wrong there
        custom = _schema_of(error).get("errorMessage")
        validator = error.validator
        if validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(_schema_of(error).get("properties", {}))
            unknown = [k for k in error.instance if isinstance(k, str) and k not in allowed]
            where = "" if not path else f" under `{path[-1]}`"
            if len(unknown) > MAX_UNKNOWN_KEYS:
                yield Diagnostic.at(
                    "unknown-key",
                    f"{len(unknown) - MAX_UNKNOWN_KEYS} more unknown keys in this {kind} "
                    f"mapping{where} (the first {MAX_UNKNOWN_KEYS} are listed)",
                    doc.key_place((*path, unknown[MAX_UNKNOWN_KEYS])),
                    path,
                    hint=f"allowed keys: {', '.join(allowed)}",
                )
            for key in unknown[:MAX_UNKNOWN_KEYS]:
                yield Diagnostic.at(
                    "unknown-key",
                    f"unknown key `{key}` in a {kind} document{where}",
                    doc.key_place((*path, key)),
                    (*path, key),
                    hint=(_ELSEWHERE.get((kind, key)) if not path else None)
                    or did_you_mean(key, allowed)
                    or f"allowed keys: {', '.join(allowed)}",
                )
        elif validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else str(error.message)
            if _misspelt(missing, error):
                continue
            removed_at = doc.removed.get((*path, missing))
            yield Diagnostic.at(
                "missing-key",
                f"missing required key `{missing}` in a {kind} document"
                + (f" under `{path[-1]}`" if path else "")
                + (" (an overlay removed it with null)" if removed_at else ""),
                removed_at or doc.place(path),
                path,
                hint=_missing_hint(kind, missing, doc.data),
            )
        elif "propertyNames" in error.schema_path:
            key = str(error.instance)
            yield Diagnostic.at(
                "invalid-key",
                f"invalid key `{key}`: {_message(error, custom)}",
                doc.key_place((*path, key)),
                (*path, key),
            )
        elif validator == "type":
            yield _type_error(error, path, doc)
        else:
            shown = "(not shown: a credential)" if _secret(path, error.instance) else _short(
                error.instance
            )
            yield Diagnostic.at(
                "invalid-value",
                f"invalid value {shown}: {_message(error, custom)}",
                doc.place(path),
                path,
                hint=_value_hint(error),
            )


def _secret(path: JsonPath, value: Any) -> bool:
    """Whether a refused value sits where a credential does (the key, a credential header
    or parameter, a templated secret): its message must not quote it."""
    return is_credential(path, value)


def _missing_hint(kind: str, missing: str, data: Any) -> str | None:
    if kind == KindName.PROVIDER and missing == "baseUrl":
        return (
            "an HTTP provider needs `baseUrl` "
            "(a Cloudflare binding uses `api: cloudflare-ai-binding`)"
        )
    if kind == KindName.PROVIDER and missing == "binding":
        return "a cloudflare-ai-binding provider names its Worker binding, e.g. `binding: AI`"
    if missing == "kind":
        return "start the document with `kind: Provider`, `ProviderConfiguration` or `ApiProvider`"
    return None


def _type_error(error: SchemaError, path: JsonPath, doc: Located) -> Diagnostic:
    expected: Any = error.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    want = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
    typed = doc.typed_scalars.get(path) or implicit_text(error.instance)
    got = f"{typed[0]} `{typed[1]}`" if typed and typed[1] else _describe(error.instance)
    secret = _secret(path, error.instance)
    if secret:
        got = f"{typed[0] if typed else 'a value'} (not shown: a credential)"
    hint = None
    instance = error.instance
    if "string" in names and typed is not None and secret:
        hint = "quote it to keep it a string"
    elif "string" in names and typed is not None:
        hint = f'quote it to keep it a string: "{typed[1]}"'
    elif {"integer", "number"} & set(names) and isinstance(instance, str):
        hint = (
            "remove the quotes"
            if _parses_as_number(instance)
            else "write a plain number, e.g. 8192"
        )
    elif "boolean" in names and isinstance(instance, str):
        hint = "write true or false, without quotes"
    elif {"integer", "number"} & set(names) and typed is not None and typed[0] == "boolean":
        hint = f"YAML reads `{typed[1]}` as a boolean; write a number"
    return Diagnostic.at(
        "wrong-type", f"expected {want}, got {got}", doc.place(path), path, hint=hint
    )


def _parses_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return f"number `{value}`"
    if isinstance(value, str):
        return f"string {_short(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: SchemaError, custom: Any) -> str:
    if isinstance(custom, str):
        return custom
    validator = error.validator
    if validator == "const":
        return f"expected {_short(error.validator_value)}"
    if validator == "enum":
        options: Any = error.validator_value
        return "expected one of " + ", ".join(_short(v) for v in options)
    if validator == "minimum":
        return f"must be at least {error.validator_value}"
    if validator == "minLength":
        return (
            "cannot be empty"
            if error.validator_value == 1
            else (f"must be at least {error.validator_value} characters")
        )
    return error.message


def _value_hint(error: SchemaError) -> str | None:
    if error.validator in ("const", "enum") and isinstance(error.instance, str):
        options: Any = (
            error.validator_value if error.validator == "enum" else [error.validator_value]
        )
        return did_you_mean(error.instance, [o for o in options if isinstance(o, str)])
    return None
