"""The schema stage: each jsonschema error becomes one diagnostic at the node at fault."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from flue_decl._domain import KINDS
from flue_decl.compiler import _schema, _schemafiles, bundled_schema
from tests.unit.compiler.stages import entity

PROVIDER = """
kind: Provider
id: ollama
api: openai-completions
baseUrl: http://localhost:11434/v1
"""


def problems(text: str) -> list[tuple[str, int, int, str]]:
    e = entity(text)
    return [
        (d.code, d.line or 0, d.column or 0, d.hint or "")
        for d in _schema.validate(e.kind, e.located())
    ]


def test_a_valid_document_has_no_problem() -> None:
    assert problems(PROVIDER) == []


def test_a_misspelt_key_is_unknown_with_a_did_you_mean_and_not_also_missing() -> None:
    text = PROVIDER.replace("baseUrl:", "baseURL:")
    assert problems(text) == [("unknown-key", 4, 1, "did you mean `baseUrl`?")]


def test_a_missing_key_is_reported_at_the_document() -> None:
    ((code, line, _, hint),) = problems("kind: Provider\nid: x\napi: openai-completions\n")
    assert (code, line) == ("missing-key", 1)
    assert "baseUrl" in hint


def test_a_quoted_number_is_a_wrong_type_with_the_fix() -> None:
    text = PROVIDER + 'contextWindow: "8192"\n'
    assert problems(text) == [("wrong-type", 5, 16, "remove the quotes")]


def test_a_yaml_typed_scalar_where_a_string_belongs_says_quote_it() -> None:
    text = PROVIDER + "headers: {X-Flag: yes}\n"
    ((code, line, column, hint),) = problems(text)
    assert (code, line, column) == ("wrong-type", 5, 19)
    assert hint == 'quote it to keep it a string: "yes"'


def test_every_kind_has_a_schema_file_and_the_bundle_is_self_contained() -> None:
    schemas = _schemafiles.load_schemas()
    for kind in KINDS.values():
        assert schemas[kind.schema]["type"] == "object"
    bundled = bundled_schema()
    Draft202012Validator.check_schema(bundled)
    refs = list(_refs(bundled))
    assert refs
    assert all(ref.startswith("#") for ref in refs)
    assert json.loads(json.dumps(bundled)) == bundled


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


GATEWAY = """
kind: Provider
id: cf
api: cloudflare-ai-binding
binding: AI
gateway:
  id: g
"""


def test_a_mistake_inside_gateway_is_reported_at_the_field() -> None:
    assert problems(GATEWAY + "  cacheTTL: 600\n") == [
        ("unknown-key", 7, 3, "did you mean `cacheTtl`?")
    ]
    ((code, line, column, _),) = problems(GATEWAY + '  cacheTtl: "300"\n')
    assert (code, line, column) == ("wrong-type", 7, 13)
    ((code, line, column, _),) = problems(GATEWAY + "  requestTimeoutMs: -5\n")
    assert (code, line, column) == ("invalid-value", 7, 21)
    ((code, line, _, _),) = problems(GATEWAY.replace("  id: g\n", "  on\n"))
    assert (code, line) == ("invalid-value", 6)  # neither false nor a mapping


def test_no_value_may_end_in_a_newline() -> None:
    for field in (
        'id: "ollama\\n"',
        'api: "openai-completions\\n"',
        'headers: {X-A: "v\\n"}',
        'headers: {"X-A\\n": v}',
        'apiKey: "k\\n"',
        'models: {"m\\n": {maxTokens: 1}}',
    ):
        key = field.split(":")[0]
        text = "\n".join(line for line in PROVIDER.splitlines() if not line.startswith(f"{key}:"))
        found = problems(text + "\n" + field + "\n")
        assert found, field
        assert {code for code, *_ in found} <= {"invalid-value", "invalid-key"}, (field, found)


def test_keys_that_belong_to_another_kind_say_where() -> None:
    ((code, _, _, hint),) = problems(PROVIDER + "storeResponses: true\n")
    assert code == "unknown-key"
    assert "ProviderConfiguration" in hint
    found = problems("kind: ProviderConfiguration\nid: openai\nregistration: {apiKey: k}\n")
    assert [(c, "top level" in h) for c, _, _, h in found] == [("unknown-key", False)]
    found = problems(PROVIDER + "registration: {apiKey: k}\n")
    assert [(c, "top level" in h) for c, _, _, h in found] == [("unknown-key", True)]


def test_an_overlay_removing_a_key_the_kind_does_not_have_is_reported() -> None:
    from tests.unit.compiler.stages import entities

    base = PROVIDER + "contextWindow: 8192\n"
    overlay = "kind: Provider\nid: ollama\noverlay: true\ncontextWindw: null\n"
    (merged,) = entities(base, overlay)
    ((code, line, _, hint),) = [
        (d.code, d.line, d.column, d.hint) for d in _schema.validate(merged.kind, merged.located())
    ]
    assert (code, line, hint) == ("unknown-key", 4, "did you mean `contextWindow`?")
