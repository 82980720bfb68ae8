"""Editors: the examples' modeline points at a schema an editor can load from a checkout."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from referencing import Registry, Resource

from tests.conformance.generate import Tree, trees
from tests.conformance.test_conformance import write_tree
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
        assert list(validator.iter_errors({"kind": "Provider", "id": "x", "baseURL": "a"}))
        assert list(validator.iter_errors({"kind": "Provider", "api": "a"}))  # no id


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


# -- the editor schema accepts every document validate accepts ---------------------------------


def test_the_partial_schema_file_is_generated_from_the_kind_schemas() -> None:
    from flue_decl.compiler._schemafiles import partial_schema

    on_disk = json.loads((REPO / "schemas" / "partial.schema.json").read_text())
    assert on_disk == partial_schema(), "run `make schemas`"


def _editor() -> jsonschema.Draft202012Validator:
    from flue_decl.compiler import bundled_schema

    return jsonschema.Draft202012Validator(bundled_schema())


def _accepted_documents(paths: list[str]) -> list[tuple[str, Any]]:
    """The documents of the files in which validate finds no error, but those whose values
    a later overlay replaces (a value replaced before it is used was never accepted)."""
    from flue_decl import Severity, compile_paths

    compilation = compile_paths(paths)
    failing = {d.file for d in compilation.diagnostics if d.severity is Severity.ERROR}
    replaced = {id(doc) for e in compilation.entities for doc in e.documents[:-1]}
    return [
        (f"{doc.file}:{doc.start.line}", doc.data)
        for doc in compilation.documents
        if doc.file not in failing and id(doc) not in replaced
    ]


def _trees() -> list[list[str]]:
    found = [
        [str(REPO / "providers.d")],
        [str(REPO / "tests" / "fixtures" / "golden" / "providers.d")],
    ]
    for case in sorted((REPO / "tests" / "fixtures" / "invalid").iterdir()):
        expected = json.loads((case / "expected.json").read_text())
        found.append([str(case / p) for p in expected.get("paths", ["providers.d"])])
    return found


@pytest.mark.parametrize("paths", _trees(), ids=lambda p: Path(p[0]).parent.name)
def test_every_document_validate_accepts_passes_the_editor_schema(paths: list[str]) -> None:
    validator = _editor()
    for where, doc in _accepted_documents(paths):
        assert not [e.message for e in validator.iter_errors(doc)], where


def test_overlays_with_null_removals_pass_and_unknown_keys_still_do_not() -> None:
    validator = _editor()
    overlay = {
        "kind": "Provider",
        "id": "ollama",
        "overlay": True,
        "headers": {"X-Team": None, "X-Env": "prod"},
        "contextWindow": None,
        "models": {"a:1": {"maxTokens": 99}, "b:2": None},
    }
    assert not list(validator.iter_errors(overlay))
    assert not list(
        validator.iter_errors(
            {
                "kind": "Provider",
                "id": "cf",
                "overlay": True,
                "gateway": {"id": "g", "metadata": {"k": None}},
            }
        )
    )
    for bad in (
        {**overlay, "baseURL": "https://x"},
        {**overlay, "contextWindow": "8192"},
        {**overlay, "headers": {"X-A": "v\n"}},
        {"kind": "Provider", "overlay": True},
    ):
        assert list(validator.iter_errors(bad)), bad


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(trees())
def test_every_generated_tree_passes_the_editor_schema(tree: Tree) -> None:
    validator = _editor()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_tree(tree, Path(tmp))
        for where, doc in _accepted_documents(paths):
            assert not [e.message for e in validator.iter_errors(doc)], where
