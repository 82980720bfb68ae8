"""The compiled schema check must agree with jsonschema about validity, document for
document: it decides alone when a document is valid, so a disagreement would let a bad
document through (or, the other way, only cost time). Documents are generated from the
schemas themselves (valid-leaning values mixed with junk at every level), plus every YAML
document among the fixtures and examples, plus hand-picked JSON-semantics traps."""

from __future__ import annotations

import datetime
import math
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from flue_decl._domain import KINDS
from flue_decl.compiler import _schema, _schemafiles
from flue_decl.compiler._fastcheck import compile_checks, equal
from tests.helpers import REPO, examples

ROOT = REPO
FILES = {f"{name}.schema.json": s for name, s in _schemafiles.load_schemas().items()}
ROOTS = {name: f"{kind.schema}.schema.json" for name, kind in KINDS.items()}
CHECKS = compile_checks(FILES, ROOTS)
VALIDATORS = _schema._validators()

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, -1, 0.0, -0.0, 1.0, 1.5, 2**63, math.inf, -math.inf, math.nan]),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(["", " ", "a/b", "AI", "$x", "x\n", "\x00", "{{ env.K }}", "é"]),
    st.just(datetime.date(2024, 1, 1)),
    st.just(b"bytes"),
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
KEYS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", "a b", "X-Team", "x\x01", "kind", "id", "api", "baseURL", "é"]),
)


def resolve(schema: Mapping[str, Any], file: str) -> tuple[Mapping[str, Any], str]:
    target, _, fragment = schema["$ref"].partition("#")
    file = target or file
    node: Any = FILES[file]
    for part in filter(None, fragment.split("/")):
        node = node[part]
    return node, file


def instances(
    schema: Any, file: str, depth: int = 0, required: frozenset[str] = frozenset()
) -> st.SearchStrategy[Any]:
    """Values aimed at ``schema``: each keyword contributes candidates that satisfy it, and
    junk stands in for any value one time in ten, so both outcomes and every boundary get
    exercised (about half the documents drawn are valid). ``required`` carries keys an
    enclosing schema requires into the branches that build the object."""
    if not isinstance(schema, Mapping) or depth > 6:
        return JUNK
    required = required | frozenset(schema.get("required", []))
    options: list[st.SearchStrategy[Any]] = []
    if "$ref" in schema:
        target, target_file = resolve(schema, file)
        options.append(instances(target, target_file, depth + 1, required))
    if "const" in schema:
        options.append(st.just(schema["const"]))
    if "enum" in schema:
        options.append(st.sampled_from(schema["enum"]))
    for combinator in ("oneOf", "anyOf", "allOf"):
        subs = schema.get(combinator, [])
        options += [instances(sub, file, depth + 1, required) for sub in subs]
    for branch in ("then", "else"):  # "if" only tells them apart
        if branch in schema:
            options.append(instances(schema[branch], file, depth + 1, required))
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "string" in types:
        pattern = schema.get("pattern")
        options.append(st.from_regex(pattern, fullmatch=True) if pattern else st.text(max_size=8))
    if "integer" in types or "number" in types:
        low = schema.get("minimum", 0)
        options.append(st.integers(low - 2, low + 3) | st.sampled_from([float(low), low - 0.5]))
    if "boolean" in types:
        options.append(st.booleans())
    if "null" in types:
        options.append(st.none())
    if "properties" in schema or ("object" in types and not options):
        options.append(_objects(schema, file, depth, required))
    if not options:
        return JUNK
    aimed = st.one_of(*options)
    if not {"type", "const", "enum"} & schema.keys():
        return aimed  # a schema that only forwards ($ref, branches): junk comes further in
    return st.integers(0, 9).flatmap(lambda n: JUNK if n == 9 else aimed)


def _objects(
    schema: Mapping[str, Any], file: str, depth: int, required: frozenset[str]
) -> st.SearchStrategy[Any]:
    props: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    names = schema.get("propertyNames", {})
    keys: st.SearchStrategy[Any] = KEYS
    if isinstance(names, Mapping) and "pattern" in names:
        keys = st.from_regex(names["pattern"], fullmatch=True) | KEYS

    @st.composite
    def build(draw: st.DrawFn) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for name, sub in props.items():
            # Hypothesis leans to small numbers: 0 means "keep" for a required key.
            keep = draw(st.integers(0, 19)) < 19 if name in required else draw(st.booleans())
            if keep:
                out[name] = draw(instances(sub, file, depth + 1))
        for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 2]))):
            value = instances(extra, file, depth + 1) if isinstance(extra, Mapping) else JUNK
            out[draw(keys)] = draw(value)
        return out

    return build()


def agree(kind: str, data: Any) -> None:
    assert CHECKS is not None
    expected = VALIDATORS[kind].is_valid(data)
    assert CHECKS[kind](data) is expected, (kind, data)


def test_the_bundled_schemas_compile() -> None:
    # If they did not, validation would still be right but every document would go
    # through jsonschema: this keeps the fast path from silently switching off.
    assert CHECKS is not None
    assert set(CHECKS) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_documents_get_the_same_answer(kind: str, data: st.DataObject) -> None:
    doc = data.draw(instances({"$ref": ROOTS[kind]}, ROOTS[kind]))
    agree(kind, doc)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_generator_reaches_valid_documents(kind: str) -> None:
    # Otherwise the agreement above would only ever compare rejections.
    found = find(
        instances({"$ref": ROOTS[kind]}, ROOTS[kind]),
        lambda d: VALIDATORS[kind].is_valid(d) and isinstance(d, dict) and len(d) >= 3,
        settings=settings(max_examples=examples(5000), database=None, phases=[Phase.generate]),
    )
    agree(kind, found)


def _yaml_documents() -> list[tuple[str, Any]]:
    out = []
    paths = sorted((ROOT / "tests" / "fixtures").rglob("*.yaml"))
    paths += sorted((ROOT / "providers.d").glob("*.yaml"))
    for path in paths:
        try:
            if path.stat().st_size > 100_000:
                continue  # the hostile cases: sizes and depths, not schema semantics
            docs = list(yaml.safe_load_all(path.read_bytes()))
        except (OSError, yaml.YAMLError, ValueError, RecursionError):
            continue
        out += [(f"{path.relative_to(ROOT)}#{i}", d) for i, d in enumerate(docs)]
    return out


def test_every_fixture_and_example_document_gets_the_same_answer() -> None:
    seen = {True: 0, False: 0}
    for _where, doc in _yaml_documents():
        for kind in KINDS:
            agree(kind, doc)
        if isinstance(doc, dict) and doc.get("kind") in KINDS:
            assert CHECKS is not None
            seen[CHECKS[doc["kind"]](doc)] += 1
    assert seen[True] >= 10, seen
    assert seen[False] >= 10, seen


HTTP = {"kind": "Provider", "id": "p", "api": "openai-completions", "baseUrl": "https://x"}
BINDING = {"kind": "Provider", "id": "p", "api": "cloudflare-ai-binding", "binding": "AI"}


@pytest.mark.parametrize(
    ("kind", "doc"),
    [
        ("Provider", HTTP),
        ("Provider", {**HTTP, "maxTokens": 1.0}),  # draft 6+: an integral float is an integer
        ("Provider", {**HTTP, "maxTokens": True}),  # a boolean is not
        ("Provider", {**HTTP, "maxTokens": -0.0}),
        ("Provider", {**HTTP, "maxTokens": math.nan}),
        ("Provider", {**HTTP, "maxTokens": 2**70}),
        ("Provider", {**HTTP, "models": {"m": {"maxTokens": -1}}}),
        ("Provider", {**HTTP, "models": {"": {}}}),
        ("Provider", {**HTTP, "headers": {"X-A": None}}),
        ("Provider", {**HTTP, "headers": {"X A": "b"}}),
        ("Provider", {**HTTP, "headers": {"X-A": "a\nb"}}),
        ("Provider", {**HTTP, "id": "a/b"}),
        ("Provider", {**HTTP, "id": ""}),
        ("Provider", {**HTTP, "kind": "provider"}),
        ("Provider", {**HTTP, "binding": "AI"}),
        ("Provider", BINDING),
        ("Provider", {**BINDING, "gateway": False}),
        ("Provider", {**BINDING, "gateway": 0}),  # JSON equality: 0 is not false
        ("Provider", {**BINDING, "gateway": {"id": "g", "cacheTtl": math.inf}}),
        ("Provider", {**BINDING, "gateway": {"id": "g", "metadata": {"a": [1]}}}),
        ("Provider", {**BINDING, "baseUrl": "https://x"}),
        ("ProviderConfiguration", {"kind": "ProviderConfiguration", "id": "openai"}),
        ("ProviderConfiguration", {"kind": "ProviderConfiguration", "id": 1}),
        ("ApiProvider", {"kind": "ApiProvider", "api": "x", "handler": "a.b:C"}),
        ("ApiProvider", {"kind": "ApiProvider", "api": "x", "handler": "a.b:C\n"}),
        ("ApiProvider", {"kind": "ApiProvider", "api": "x", "handler": "a:b:c"}),
        ("ApiProvider", ["kind", "ApiProvider"]),
        ("ApiProvider", None),
    ],
)
def test_json_semantics_traps(kind: str, doc: Any) -> None:
    agree(kind, doc)


SYNTHETIC = [
    {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
    {"anyOf": [{"type": "integer"}, {"minimum": 0}]},
    {"allOf": [{"type": "number"}, {"maximum": 3}]},
    {"not": {"type": "string"}},
    {"pattern": "b+"},
    {"minLength": 2, "maxLength": 3},
    {"minimum": 1, "maximum": 2},
    {"enum": [1, "1", False, None, [0], {"a": 0}]},
    {"const": {"a": [False]}},
    {"const": 0},
    {"type": ["string", "null"]},
    {"required": ["a"]},
    {"properties": {"a": {"type": "integer"}}},
    {"properties": {"a": {"type": "integer"}}, "additionalProperties": False},
    {"additionalProperties": {"type": "string"}},
    {"propertyNames": {"minLength": 2}},
    {"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}},
    {"if": {"required": ["a"]}, "then": {"required": ["b"]}},
    {"if": {"required": ["a"]}, "else": {"required": ["b"]}},
    {"then": {"required": ["b"]}, "else": {"required": ["b"]}},
    {"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}},
    {"items": False, "$comment": "unsupported: must fall back, not guess"},
]
VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    2,
    3,
    1.0,
    2.5,
    -1,
    math.nan,
    "",
    "a",
    "ab",
    "abc",
    "abcd",
    "xbx",
    "1",
    [],
    [0],
    [False],
    {},
    {"a": 0},
    {"a": 1.0},
    {"a": "x"},
    {"a": [False]},
    {"b": 1},
    {"c": 1},
    {"a": 1, "b": 2},
    {"a": 1, "c": 2},
    {"ab": "x", "cd": 1},
    datetime.date(2024, 1, 1),
    b"ab",
]


@pytest.mark.parametrize("schema", SYNTHETIC, ids=range(len(SYNTHETIC)))
def test_each_keyword_alone_agrees_with_jsonschema(schema: dict[str, Any]) -> None:
    # The bundled schemas use most keywords in only one shape (anchored patterns, oneOf
    # over disjoint branches, lengths beside `type: string`); here each works alone.
    from jsonschema import Draft202012Validator

    checks = compile_checks({"s.json": schema}, {"S": "s.json"})
    if "items" in schema:
        assert checks is None
        return
    assert checks is not None
    validator = Draft202012Validator(schema)
    for value in VALUES:
        assert checks["S"](value) is validator.is_valid(value), (schema, value)


def test_equal_is_json_equality() -> None:
    assert equal(False, False)
    assert not equal(False, 0)
    assert not equal(1, True)
    assert equal(1, 1.0)
    assert equal([1, {"a": False}], [1.0, {"a": False}])
    assert not equal([0], [False])
    assert not equal({"a": 1}, {"a": 1, "b": 2})
    assert not equal("1", 1)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "dependentRequired": {"a": ["b"]}},
        {"properties": {"a": {"format": "uri"}}},
        {"$ref": "elsewhere.json"},
        {"pattern": "("},
        {"type": "decimal"},
        {"$id": "https://example.com/s.json", "type": "object"},
    ],
)
def test_anything_outside_the_subset_falls_back_to_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_checks({"s.json": schema}, {"S": "s.json"}) is None


def test_a_recursive_reference_compiles() -> None:
    tree = {"type": "object", "additionalProperties": {"$ref": "#"}}
    checks = compile_checks({"t.json": tree}, {"T": "t.json"})
    assert checks is not None
    assert checks["T"]({"a": {"b": {}}})
    assert not checks["T"]({"a": {"b": 1}})


def test_a_valid_tree_is_validated_without_importing_jsonschema(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "p.yaml").write_text("kind: Provider\nid: p\napi: openai-completions\n")
    code = (
        "import sys\nfrom flue_decl import compile_paths\n"
        "for tree in sys.argv[1:]:\n"
        "    c = compile_paths([tree])\n"
        "    print(c.ok, [d.code for d in c.errors], 'jsonschema' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "providers.d"), str(bad)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out == ["True [] False", "False ['missing-key'] True"]
