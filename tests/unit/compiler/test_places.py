"""Every node's place, from the packed tables, against PyYAML's own node marks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flue_decl.compiler._pipeline import compile_paths
from flue_decl.compiler._tables import SMALL

WIDE = "".join(f"  k{i}: v{i}\n" for i in range(SMALL + 3))  # a table past the tuple form
TEXT = f"""kind: Provider
id: p
api: openai-completions
baseUrl: https://p.example/v1
headers: {{x-a: "1", x-b: "2"}}
models:
  m1: {{maxTokens: 9, name: one}}
  m2:
    input: [text, image]
    cost: {{input: 1, output: 2}}
metadata:
{WIDE}  lists:
    - [a, [b, c]]
    - {{q: 1}}
    -
      - d
"""


def _marks(node: yaml.Node, path: tuple[Any, ...], out: dict[Any, Any]) -> None:
    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[("key", *path, key.value)] = (key.start_mark.line + 1, key.start_mark.column + 1)
            _marks(value, (*path, key.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _marks(item, (*path, i), out)


def test_every_value_and_key_is_where_pyyaml_puts_it(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(TEXT)
    (doc,) = compile_paths([str(tmp_path / "a.yaml")]).documents
    expected: dict[Any, Any] = {}
    root = yaml.compose(TEXT)
    assert root is not None
    _marks(root, (), expected)
    got: dict[Any, Any] = {}
    for path, (file, line, column), who in doc.places.items():
        assert (file, who) == (str(tmp_path / "a.yaml"), 0)
        got[path] = (line, column)
        key = doc.places.key_spot(path)
        if key is not None:
            got[("key", *path)] = key[1:]
        assert doc.places.spot(path) == (file, line, column)
    assert got == expected
    assert doc.places.spot(("models", "m9")) is None
    assert doc.places.spot(("metadata", "lists", 7)) is None
    assert max(doc.places.lines()) == TEXT.count("\n")


def test_an_overlay_names_its_own_file_for_what_it_set_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(TEXT)
    overlay = "kind: Provider\nid: p\noverlay: true\nmetadata:\n  k1: w\n  lists: [z]\n"
    (tmp_path / "b.yaml").write_text(overlay)
    (entity,) = compile_paths([str(tmp_path)]).entities
    a, b = str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")
    assert entity.place(("metadata", "k1")).file == b
    assert entity.key_place(("metadata", "k1")).line == 5
    assert entity.place(("metadata", "k2")).file == a
    assert entity.place(("metadata", "lists", 0)).file == b  # the list replaced whole
    assert entity.places.spot(("metadata", "lists", 1)) is None
    assert entity.place(("models", "m1", "maxTokens")).file == a
    # The document's own tables are untouched by the merge.
    (first, _) = compile_paths([str(tmp_path)]).documents
    assert first.places.spot(("metadata", "lists", 1)) is not None


TYPED = """kind: Provider
id: p
api: openai-completions
baseUrl: https://p.example/v1
metadata:
  a: yes
  b: 8192
  c: ~
  d: [on, 7, Off, {e: NO}]
  f: 1.50
"""


def test_typed_texts_are_kept_where_the_value_does_not_give_them(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(TYPED)
    (doc,) = compile_paths([str(tmp_path / "a.yaml")]).documents
    assert dict(doc.typed_scalars) == {
        ("metadata", "a"): ("boolean", "yes"),
        ("metadata", "c"): ("null", "~"),
        ("metadata", "d", 0): ("boolean", "on"),
        ("metadata", "d", 2): ("boolean", "Off"),
        ("metadata", "d", 3, "e"): ("boolean", "NO"),
        ("metadata", "f"): ("number", "1.50"),
    }
    assert ("metadata", "b") not in doc.typed_scalars  # 8192 says it itself
    # One tuple for each text a file repeats.
    assert doc.places.texts == sorted(set(doc.places.texts), key=doc.places.texts.index)


def test_an_overlay_brings_its_typed_texts_and_drops_what_it_replaced(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(TYPED)
    overlay = "kind: Provider\nid: p\noverlay: true\nmetadata:\n  a: 'yes'\n  d: [ON]\n  g: Off\n"
    (tmp_path / "b.yaml").write_text(overlay)
    (entity,) = compile_paths([str(tmp_path)]).entities
    assert dict(entity.typed_scalars) == {
        ("metadata", "c"): ("null", "~"),
        ("metadata", "d", 0): ("boolean", "ON"),
        ("metadata", "f"): ("number", "1.50"),
        ("metadata", "g"): ("boolean", "Off"),
    }
    assert entity.place(("metadata", "g")).file == str(tmp_path / "b.yaml")


def test_a_model_removed_then_made_again_by_later_overlays(tmp_path: Path) -> None:
    """Found by a review: a table dropped and made again was taken for this copy's own
    (copy on write) and looked up where it no longer was."""
    over = "---\nkind: Provider\nid: p\noverlay: true\nmodels:\n  m1: {}\n"
    text = (
        "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example/v1\n"
        "models:\n  m1: {maxTokens: 5}\n"
        + over.replace("{}", "{maxTokens: 6}")
        + over.replace("{}", "null")
        + over
        + over.replace("{}", "{contextWindow: 100}")
        + "---\nkind: Provider\nid: p\noverlay: true\nmodels: null\n"
        + "---\nkind: Provider\nid: p\noverlay: true\nmodels: {}\n"
        + over.replace("m1: {}", "m3: {maxTokens: 1}")
    )
    (tmp_path / "a.yaml").write_text(text)
    found = compile_paths([str(tmp_path / "a.yaml")])
    assert found.ok, found.diagnostics
    (entity,) = found.entities
    assert entity.data["models"] == {"m3": {"maxTokens": 1}}
    assert entity.place(("models", "m3", "maxTokens")).line == text.count("\n")


def test_a_place_and_its_file_come_from_one_document(tmp_path: Path) -> None:
    """An overlay that sets a mapping through an alias of a big anchor (placed at the
    alias, not node by node) leaves the base's places of what it merges into, and their
    file: a review found the overlay's file named with the base's line."""
    base = HEAD_P + "".join(f"# {i}\n" for i in range(20)) + "models:\n  m1:\n    maxTokens: 5\n"
    big = ", ".join(f"z{i}: {{maxTokens: {i}}}" for i in range(40))
    over = f'kind: Provider\nid: p\noverlay: true\nx: &big {{m1: {{maxTokens: "abc"}}, {big}}}\n'
    (tmp_path / "a.yaml").write_text(base)
    (tmp_path / "b.yaml").write_text(over + "models: *big\n")
    (wrong,) = [d for d in compile_paths([str(tmp_path)]).diagnostics if d.code == "wrong-type"]
    assert (wrong.file, wrong.line) == (str(tmp_path / "a.yaml"), 27)


HEAD_P = "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example/v1\n"


def test_a_merged_value_keeps_its_text_and_a_refused_one_stays_quiet(tmp_path: Path) -> None:
    """`<<: *a` brings the anchor's texts: a merged `yes` is worded `yes`, and a value
    refused where it was written (0x10) is not reported again where it is merged."""
    text = HEAD_P + "x: &a {maxTokens: yes, contextWindow: 0x10}\nmodels:\n  m1:\n    <<: *a\n"
    (tmp_path / "a.yaml").write_text(text)
    found = compile_paths([str(tmp_path / "a.yaml")])
    (doc,) = found.documents
    assert doc.typed_scalars[("models", "m1", "maxTokens")] == ("boolean", "yes")
    assert ("models", "m1", "contextWindow") in doc.broken
    merged = [d.message for d in found.diagnostics if d.line == 5 and d.code == "wrong-type"]
    assert merged == ["expected an integer, got boolean `yes`"], found.diagnostics


def test_a_key_written_beside_a_merge_is_checked_though_the_merged_one_was_refused(
    tmp_path: Path,
) -> None:
    """Found by fuzzing against the last stop's code: the refusal of a merged value hid
    an explicit value of the same key."""
    models = "models:\n  m1:\n    <<: *a\n    contextWindow: [1]\n"
    text = HEAD_P + "x: &a {contextWindow: 0x10}\n" + models
    (tmp_path / "a.yaml").write_text(text)
    found = compile_paths([str(tmp_path / "a.yaml")]).diagnostics
    wrong = [(d.line, d.message) for d in found if d.code == "wrong-type"]
    assert wrong == [(9, "expected an integer, got a list")], found


def test_an_overlay_forgets_everything_below_what_it_replaces(tmp_path: Path) -> None:
    base = HEAD_P + "models:\n  m1:\n    input: [{a: 1}, [{b: 2}]]\n    cost: {input: {x: 1}}\n"
    (tmp_path / "a.yaml").write_text(base)
    over = "kind: Provider\nid: p\noverlay: true\nmodels:\n  m1:\n    input: null\n    cost: 7\n"
    (tmp_path / "b.yaml").write_text(over)
    (entity,) = compile_paths([str(tmp_path)]).entities
    assert entity.places.below(("models",)) == [("models",), ("models", "m1")]
    for gone in [("input", 0, "a"), ("input", 1, 0, "b"), ("cost", "input", "x")]:
        assert entity.places.spot(("models", "m1", *gone)) is None
    assert entity.place(("models", "m1", "cost")).file == str(tmp_path / "b.yaml")
    (doc, _) = compile_paths([str(tmp_path)]).documents
    below = doc.places.below(("models", "m1"))
    assert len(below) == 7, below  # m1, input, its items, the inner item, cost, cost.input
