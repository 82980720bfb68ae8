from __future__ import annotations

from pathlib import Path

from flue_decl import compile_paths
from tests.helpers import write_files

BASE = """
kind: Provider
id: ollama
api: openai-completions
baseUrl: http://localhost:11434/v1
headers: {X-Team: search, X-Keep: "1"}
contextWindow: 8192
models:
  "a:1": {contextWindow: 10, maxTokens: 20}
  "b:2": {contextWindow: 30}
"""


def test_overlay_deep_merges_maps_replaces_scalars_and_null_removes(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "base.d/10-ollama.yaml": BASE,
            "prod.d/10-ollama.yaml": """
            kind: Provider
            id: ollama
            overlay: true
            baseUrl: http://127.0.0.1:9999/v1
            headers: {X-Team: null, X-Env: prod}
            contextWindow: null
            models:
              "a:1": {maxTokens: 99}
              "b:2": null
              "c:3": {maxTokens: 1}
        """,
        },
    )
    c = compile_paths([str(tmp_path / "base.d"), str(tmp_path / "prod.d")])
    assert c.ok, c.diagnostics
    (call,) = c.calls
    assert call.payload == {
        "api": "openai-completions",
        "baseUrl": "http://127.0.0.1:9999/v1",
        "headers": {"X-Keep": "1", "X-Env": "prod"},
        "models": {"a:1": {"contextWindow": 10, "maxTokens": 99}, "c:3": {"maxTokens": 1}},
    }
    # every field remembers which file, line and layer set it
    base_origin = call.origins[("models", "a:1", "contextWindow")]
    over_origin = call.origins[("models", "a:1", "maxTokens")]
    assert (Path(base_origin.place.file).parent.name, base_origin.layer, base_origin.overlay) == (
        "base.d",
        0,
        False,
    )
    assert (
        Path(over_origin.place.file).parent.name,
        over_origin.place.line,
        over_origin.layer,
        over_origin.overlay,
    ) == ("prod.d", 8, 1, True)
    assert ("headers", "X-Team") not in call.origins


def test_lists_replace_whole(tmp_path: Path) -> None:
    from flue_decl._discover import SourceFile
    from flue_decl.compiler._layer import layer
    from flue_decl.compiler._parse import parse_text

    docs = [
        *parse_text(
            "kind: Provider\nid: x\nl: [1, 2, 3]\nm: {a: [1]}\n", SourceFile("a.yaml", 0)
        ).documents,
        *parse_text(
            "kind: Provider\nid: x\noverlay: true\nl: [9]\nm: {a: [2]}\n", SourceFile("b.yaml", 0)
        ).documents,
    ]
    (entity,) = layer(docs).entities
    assert entity.data["l"] == [9]
    assert entity.data["m"] == {"a": [2]}


def test_accidental_redefinition_names_both_places(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.yaml": BASE, "b.yaml": "# again\n" + BASE})
    c = compile_paths([str(tmp_path)])
    (diag,) = c.errors
    assert diag.code == "duplicate-definition"
    assert (diag.file, diag.line) == (str(tmp_path / "b.yaml"), 4)
    assert f"{tmp_path / 'a.yaml'}:2:5" in diag.message
    assert [(p.file, p.line) for p in diag.related] == [(str(tmp_path / "a.yaml"), 2)]


def test_a_duplicate_definition_hides_nothing_in_either_document(tmp_path: Path) -> None:
    # The second definition is not part of the tree, but every problem in it is reported:
    # a literal key in it would otherwise go unseen until the first was removed.
    twin = BASE.replace(
        "headers: {X-Team: search, X-Keep: \"1\"}",
        "apiKey: sk-proj-Q2hlY2tpbmdBbGxUaGVQcm9ibGVtc0F0T25jZTEyMzQ1Njc4\n"
        "contextWindow: lots",
    )
    write_files(tmp_path, {"a.yaml": BASE, "b.yaml": "# again\n" + twin})
    c = compile_paths([str(tmp_path)])
    found = sorted((Path(d.file or "").name, d.line, d.code) for d in c.diagnostics)
    assert ("b.yaml", 4, "duplicate-definition") in found
    assert ("b.yaml", 7, "literal-secret") in found, found
    assert any(name == "b.yaml" and line == 8 for name, line, _ in found), found  # the type
    assert not c.ok
    assert len(found) == len(set(found))  # each problem once


def test_same_id_in_different_kinds_is_not_a_redefinition(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.yaml": BASE + "---\nkind: ProviderConfiguration\nid: ollama\n"})
    c = compile_paths([str(tmp_path)])
    assert c.ok
    assert [call.op for call in c.calls] == ["registerProvider", "configureProvider"]


def test_calls_are_ordered_by_kind_then_document_order(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "a.yaml": """
            kind: ProviderConfiguration
            id: openai
            ---
            kind: Provider
            id: p2
            api: proto
            baseUrl: https://p2.example
        """,
            "b.yaml": """
            kind: ApiProvider
            api: proto
            handler: m:C
            ---
            kind: Provider
            id: p1
            api: openai-completions
            baseUrl: https://p1.example
            ---
            kind: ProviderConfiguration
            id: anthropic
        """,
        },
    )
    c = compile_paths([str(tmp_path)])
    assert c.ok, c.diagnostics
    assert [(call.op, call.target) for call in c.calls] == [
        ("registerApiProvider", "proto"),
        ("registerProvider", "p2"),
        ("registerProvider", "p1"),
        ("configureProvider", "openai"),
        ("configureProvider", "anthropic"),
    ]


def test_an_overlay_before_its_base_says_where_the_base_is_and_why(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "providers.d/10-ollama-prod.yaml": "kind: Provider\nid: ollama\noverlay: true\n"
            "baseUrl: http://127.0.0.1:9/v1\n",
            "providers.d/20-ollama.yaml": BASE,
        },
    )
    c = compile_paths([str(tmp_path / "providers.d")])
    (diag,) = c.errors
    assert diag.code == "overlay-without-base"
    assert "defined later, at" in diag.message
    assert diag.hint is not None
    assert "byte order" in diag.hint
    assert [p.file.endswith("20-ollama.yaml") for p in diag.related] == [True]
