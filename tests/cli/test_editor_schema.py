"""Editors: the examples' modeline points at a schema an editor can load from a checkout."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from tests.helpers import REPO

MODELINE = re.compile(r"#\s*yaml-language-server:\s*\$schema=(\S+)")


def _retrieve(uri: str) -> Resource[Any]:
    assert uri.startswith("file://"), f"the schema reaches outside the checkout: {uri}"
    return Resource.from_contents(json.loads(Path(uri.removeprefix("file://")).read_text()))


def test_every_example_has_a_modeline_an_editor_can_follow() -> None:
    for example in sorted((REPO / "providers.d").glob("*.yaml")):
        match = MODELINE.search(example.read_text().splitlines()[0])
        assert match, f"{example.name} has no modeline on its first line"
        schema_path = (example.parent / match.group(1)).resolve()
        assert schema_path.is_file()
        # As yaml-language-server does: the schema's own file URI is the base for its $refs.
        schema = {**json.loads(schema_path.read_text()), "$id": schema_path.as_uri()}
        validator = jsonschema.Draft202012Validator(schema, registry=Registry(retrieve=_retrieve))  # type: ignore[call-arg]
        for doc in yaml.safe_load_all(example.read_text()):
            assert not [e.message for e in validator.iter_errors(doc)], example.name
        assert list(validator.iter_errors({"kind": "Provider", "id": "x", "api": "a"}))


def test_every_field_has_a_description_for_hover_help() -> None:
    def walk(node: Any, path: str) -> list[str]:
        missing = []
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub:
                    missing.append(f"{path}.{name}")
            for key, value in node.items():
                if key != "if":  # conditions, not fields
                    missing += walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                missing += walk(value, f"{path}[{i}]")
        return missing

    for schema in sorted((REPO / "schemas").glob("*.json")):
        assert walk(json.loads(schema.read_text()), schema.name) == []
