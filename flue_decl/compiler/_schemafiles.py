"""The schema files in ``schemas/`` (the one source of truth, shipped in the wheel as
``flue_decl/schemas``), and what editors get built from them: one bundled schema for every
kind (``flue-decl schema``), and the partial schema a single document of a layered tree is
checked against (``schemas/partial.schema.json``). Validation is ``_schema``'s."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from .._domain import KINDS, schema_dir

SCHEMA_FILES = ("definitions", *(kind.schema for kind in KINDS.values()), "partial", "flue-decl")


@functools.cache
def load_schemas() -> dict[str, dict[str, Any]]:
    base = schema_dir()
    out: dict[str, dict[str, Any]] = {}
    for name in SCHEMA_FILES:
        with open(os.path.join(base, f"{name}.schema.json"), encoding="utf-8") as fh:
            out[name] = json.load(fh)
    return out


def schema_file(name: str) -> str:
    return f"{name}.schema.json"


def bundled_schema() -> dict[str, Any]:
    """One self-contained schema for every document kind (for editors and `flue-decl schema`):
    each file becomes ``$defs/<name>`` and its references are rewritten to point there."""
    schemas = load_schemas()

    def rewrite(node: Any, owner: str) -> Any:
        if isinstance(node, dict):
            out = {k: rewrite(v, owner) for k, v in node.items()}
            ref = node.get("$ref")
            if isinstance(ref, str):
                target, _, fragment = ref.partition("#")
                name = target.removesuffix(".schema.json") if target else owner
                out["$ref"] = f"#/$defs/{name}{fragment}" if name != "flue-decl" else f"#{fragment}"
            return out
        if isinstance(node, list):
            return [rewrite(v, owner) for v in node]
        return node

    top: dict[str, Any] = rewrite(schemas["flue-decl"], "flue-decl")
    top["$defs"] = {
        name: {k: v for k, v in rewrite(schemas[name], name).items() if k != "$schema"}
        for name in SCHEMA_FILES
        if name != "flue-decl"
    }
    return top


@functools.cache
def known_keys(kind: str) -> frozenset[str]:
    """The top-level keys a document of ``kind`` may have (of any of its forms)."""
    schema = load_schemas()[KINDS[kind].schema]
    names = set(schema.get("properties", {}))
    for form in schema.get("$defs", {}).values():
        names |= set(form.get("properties", {}))
    return frozenset(names)


@functools.cache
def schema_words() -> dict[str, str]:
    """Every property name of the schemas, each as one string object to share: a dense file
    repeats `reasoning` 100,000 times, and the parser makes a string each time."""
    words: dict[str, str] = {}
    todo: list[Any] = list(load_schemas().values())
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                words.update((name, name) for name in properties)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return words


def partial_schema() -> dict[str, Any]:
    """The forms of every kind's schema that a single document of a layered tree is checked
    against in an editor (``schemas/partial.schema.json``, generated from the others by
    ``make schemas``): ``<kind>`` needs no key but ``kind`` and its identity (a later
    overlay may supply the rest), ``<kind>-overlay`` also lets any key be ``null`` (it
    removes the key). Unknown keys and wrong types are errors in both; ``validate`` checks
    the merged result against the kind's own schema."""
    schemas = load_schemas()

    def ref(value: str, owner: str, suffix: str) -> str:
        target, _, fragment = value.partition("#")
        name = target.removesuffix(".schema.json") if target else owner
        return f"#/$defs/{name}{suffix}{fragment}"

    def nullable(node: Any) -> dict[str, Any]:
        description = node.get("description") if isinstance(node, dict) else None
        return {
            "description": description or "null removes the key in an overlay",
            "anyOf": [{"type": "null"}, node],
        }

    def form(node: Any, owner: str, overlay: bool) -> Any:
        if isinstance(node, list):
            return [form(v, owner, overlay) for v in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        wrap = nullable if overlay else (lambda sub: sub)
        suffix = "-overlay" if overlay else ""
        for key, value in node.items():
            if key in ("$schema", "required", "if", "then", "else"):
                continue
            if key == "properties":
                out[key] = {name: wrap(form(sub, owner, overlay)) for name, sub in value.items()}
            elif key == "additionalProperties" and isinstance(value, dict):
                out[key] = wrap(form(value, owner, overlay))
            elif key == "$ref":
                out[key] = ref(value, owner, suffix)
            else:
                out[key] = form(value, owner, overlay)
        if "then" in node and "else" in node:
            # Without the key the condition reads (a partial document may leave it out),
            # either branch may be the one the document ends up in.
            out["anyOf"] = [form(node["then"], owner, overlay), form(node["else"], owner, overlay)]
        return out

    defs: dict[str, Any] = {}
    for overlay, suffix in ((False, ""), (True, "-overlay")):
        defs[f"definitions{suffix}"] = form(schemas["definitions"], "definitions", overlay)
        for name, kind in KINDS.items():
            body = form(schemas[kind.schema], kind.schema, overlay)
            body["required"] = ["kind", kind.identity, *(["overlay"] if overlay else [])]
            body["title"] = f"{name}{' overlay' if overlay else ''}, alone"
            defs[f"{kind.schema}{suffix}"] = body
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "flue-decl documents as they stand alone in a layered tree",
        "description": "Generated from the kind schemas by `make schemas`; do not edit.",
        "$defs": defs,
    }
