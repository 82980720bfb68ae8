from __future__ import annotations

from pathlib import Path

import pytest

from flue_decl._discover import SourceFile
from flue_decl._errors import Place
from flue_decl.compiler._parse import MAX_DEPTH, parse_file, parse_text


def parse(text: str) -> tuple[list[object], list[tuple[str, int, int]]]:
    result = parse_text(text, SourceFile("f.yaml", 0))
    return (
        [d.data for d in result.documents],
        [(d.code, d.line or 0, d.column or 0) for d in result.diagnostics],
    )


def test_every_value_and_key_has_a_one_based_place() -> None:
    result = parse_text(
        'kind: Provider\nmodels:\n  "a:b": {contextWindow: 5}\n', SourceFile("f.yaml", 0)
    )
    doc = result.documents[0]
    assert doc.place(("kind",)) == Place("f.yaml", 1, 7)
    assert doc.key_place(("models", "a:b")) == Place("f.yaml", 3, 3)
    assert doc.place(("models", "a:b", "contextWindow")) == Place("f.yaml", 3, 26)
    # an unknown path falls back to its nearest known parent
    assert doc.place(("models", "a:b", "nope")) == doc.place(("models", "a:b"))


def test_columns_count_characters_not_bytes() -> None:
    result = parse_text("é: ü\nx: 1\n", SourceFile("f.yaml", 0))
    assert result.documents[0].place(("é",)) == Place("f.yaml", 1, 4)


def test_several_documents_empty_ones_skipped_but_counted() -> None:
    result = parse_text("# c\n---\na: 1\n---\n---\nb: 2\n", SourceFile("f.yaml", 0))
    # a comment before the first `---` belongs to that document; `---\n---` is an empty one
    assert [(d.index, d.data) for d in result.documents] == [(0, {"a": 1}), (2, {"b": 2})]


def test_duplicate_keys_are_errors_naming_the_first() -> None:
    result = parse_text("a: 1\nb: 2\na: 3\n", SourceFile("f.yaml", 0))
    (diag,) = result.diagnostics
    assert (diag.code, diag.line, diag.related) == ("duplicate-key", 3, (Place("f.yaml", 1, 1),))


def test_non_string_keys_are_errors_with_a_quote_hint() -> None:
    _, diags = parse('1: a\ntrue: b\n~: c\nyes: d\n"2": ok\n')
    assert diags == [
        ("non-string-key", 1, 1),
        ("non-string-key", 2, 1),
        ("non-string-key", 3, 1),
        ("non-string-key", 4, 1),
    ]
    result = parse_text("1.5: a\n", SourceFile("f.yaml", 0))
    assert result.diagnostics[0].hint == 'quote it: "1.5"'


def test_python_tags_are_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f'a: !!python/object/apply:os.system ["touch {marker}"]\n'
    _, diags = parse(text)
    assert diags == [("yaml-tag", 1, 4)]
    assert not marker.exists()


def test_merge_keys_fill_in_and_explicit_keys_win() -> None:
    data, diags = parse("base: &b {x: 1, y: 2}\nm:\n  y: 3\n  <<: *b\n")
    assert diags == []
    assert data == [{"base": {"x": 1, "y": 2}, "m": {"x": 1, "y": 3}}]


def test_alias_bomb_is_cut_off_by_the_node_budget() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    _, diags = parse("\n".join(lines) + "\n")
    assert "yaml-too-large" in {c for c, _, _ in diags}


def test_recursive_alias_is_refused() -> None:
    _, diags = parse("a: &a [1, *a]\n")
    assert [c for c, _, _ in diags] == ["yaml-alias-cycle"]


def test_deep_nesting_is_refused() -> None:
    _, diags = parse("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    assert [c for c, _, _ in diags] == ["yaml-too-deep"]


def test_syntax_error_keeps_earlier_documents() -> None:
    data, diags = parse("a: 1\n---\nb: [\n")
    assert data == [{"a": 1}]
    assert [c for c, _, _ in diags] == ["yaml-syntax"]


def test_bom_is_accepted_bad_utf8_and_nul_are_reported_by_line(tmp_path: Path) -> None:
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbfa: 1\n")
    (tmp_path / "bad.yaml").write_bytes(b"a: 1\nb: \xff\n")
    (tmp_path / "nul.yaml").write_bytes(b"a: 1\n\nb: x\x00\n")
    assert parse_file(SourceFile(str(tmp_path / "bom.yaml"), 0)).documents[0].data == {"a": 1}
    bad = parse_file(SourceFile(str(tmp_path / "bad.yaml"), 0)).diagnostics[0]
    assert (bad.code, bad.line, bad.column) == ("encoding", 2, 4)
    nul = parse_file(SourceFile(str(tmp_path / "nul.yaml"), 0)).diagnostics[0]
    assert (nul.code, nul.line, nul.column) == ("encoding", 3, 5)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"a: " + b"x" * 2000 + b"\n")
    result = parse_file(SourceFile(str(tmp_path / "big.yaml"), 0), max_bytes=1000)
    assert [d.code for d in result.diagnostics] == ["file-too-large"]


@pytest.mark.parametrize(
    ("raw", "reads_as"),
    [("010000", 4096), ("-017", -15), ("1:30", 90), ("0x1F", 31), ("1_000", 1000), ("0b11", 3)],
)
def test_integers_that_do_not_read_as_they_look_are_refused(raw: str, reads_as: int) -> None:
    parsed = parse_text(f"contextWindow: {raw}\n", SourceFile("f.yaml", 0))
    (diag,) = parsed.diagnostics
    assert (diag.code, diag.line, diag.column) == ("invalid-value", 1, 16)
    assert f"reads as {reads_as}" in diag.message
    assert parsed.documents[0].data == {"contextWindow": None}


def test_integers_javascript_cannot_hold_are_refused() -> None:
    ok = parse_text("a: 9007199254740991\nb: -9007199254740991\n", SourceFile("f.yaml", 0))
    assert not ok.diagnostics
    parsed = parse_text("a: 9007199254740993\n", SourceFile("f.yaml", 0))
    (diag,) = parsed.diagnostics
    assert diag.code == "invalid-value"
    assert "JavaScript" in diag.message
    decimal = parse_text("a: 8192\nb: -1\nc: 0\nd: 1.5\n", SourceFile("f.yaml", 0))
    assert not decimal.diagnostics


@pytest.mark.parametrize("raw", [".nan", ".inf", "-.inf", "1.0e+400", "1_0.5", "1:30.5"])
def test_numbers_json_cannot_hold_or_that_read_otherwise_are_refused(raw: str) -> None:
    parsed = parse_text(f"cacheTtl: {raw}\n", SourceFile("f.yaml", 0))
    (diag,) = parsed.diagnostics
    assert (diag.code, diag.line, diag.column) == ("invalid-value", 1, 11)


def test_an_anchor_on_a_mapping_key_names_that_key() -> None:
    """YAML 1.2 example 6.23 (yaml-test-suite HMQ5, E76Z): `&a key: value`, then `*a` is
    the string `key`; before, the alias was refused as undefined."""
    roots, problems = parse('&a1 "foo": bar\n&a2 baz: *a1\n')
    assert problems == []
    assert roots == [{"foo": "bar", "baz": "foo"}]


def test_an_alias_to_a_string_may_be_a_key_and_nothing_else_may() -> None:
    """yaml-test-suite E76Z: `*b : *a` where both anchor strings; an alias to a number or a
    mapping is still not a key, and a key met twice through an alias is a duplicate."""
    roots, problems = parse("&a a: &b b\n*b : *a\n")
    assert problems == []
    assert roots == [{"a": "b", "b": "a"}]
    _, problems = parse("x: &n 1\n*n : v\n")
    assert [code for code, *_ in problems] == ["non-string-key"]
    _, problems = parse("&k a: 1\n*k : 2\n")
    assert [code for code, *_ in problems] == ["duplicate-key"]
