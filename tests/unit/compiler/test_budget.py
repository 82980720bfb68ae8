"""The tree's budget (``compiler/_budget``): what the parse builds is charged as it is
built, and a tree that would cost more than its share is refused where it goes past."""

from __future__ import annotations

from pathlib import Path

from bench.generate import generate
from flue_decl._discover import SourceFile
from flue_decl.compiler import _budget
from flue_decl.compiler._budget import PER_INPUT_BYTE, TreeBudget
from flue_decl.compiler._parse import parse_file, parse_text
from flue_decl.compiler._pipeline import compile_paths
from tests.unit.compiler.stages import entities

HEAD = "kind: Provider\nid: p{n}\napi: openai-completions\nbaseUrl: https://p.example/v1\n"


def _refusals(tmp_path: Path) -> list[tuple[str | None, int | None, str]]:
    compiled = compile_paths(tmp_path / "providers.d")
    return [
        (d.file, d.line, d.message) for d in compiled.diagnostics if d.code == "yaml-too-large"
    ]


def test_a_tree_denser_than_its_budget_is_refused_where_it_goes_past(tmp_path: Path) -> None:
    tree = tmp_path / "providers.d"
    tree.mkdir()
    (tree / "a.yaml").write_text(HEAD.format(n=0) + "x:\n" + "- {a}\n" * 99_000)
    (tree / "b.yaml").write_text(HEAD.format(n=1))
    refusals = _refusals(tmp_path)
    assert refusals[0][0] == str(tree / "a.yaml")
    line = refusals[0][1]
    assert line is not None
    assert 6 < line < 99_000
    assert "MiB parsed" in refusals[0][2]
    assert _refusals(tmp_path) == refusals  # charged by the input alone: the same each time


def test_the_budget_grows_with_the_tree(tmp_path: Path) -> None:
    """The same dense file passes in a tree ten times its size: the budget is the tree's
    (all files' bytes), not the file's."""
    tree = tmp_path / "providers.d"
    tree.mkdir()
    (tree / "a.yaml").write_text(HEAD.format(n=0) + "x:\n" + "- {a}\n" * 60_000)
    assert _refusals(tmp_path)
    padding = "# " + "x" * 78 + "\n"
    for n in range(1, 40):
        (tree / f"{n}.yaml").write_text(HEAD.format(n=n) + padding * 1_000)
    assert not _refusals(tmp_path)


def test_ordinary_files_cost_less_than_their_share_at_any_scale(tmp_path: Path) -> None:
    """The bench's generated tree (what a real providers.d looks like, densely): what it is
    charged stays under 20 times its size without the allowance, so any number of such
    files is accepted. (It is charged 19.3 times: its peak memory is about 17 times.)"""
    files = sorted(generate(tmp_path, 300).iterdir())
    size = sum(path.stat().st_size for path in files)
    budget = TreeBudget(size)
    for path in files:
        parsed = parse_file(SourceFile(str(path), 0), tree=budget)
        assert not parsed.diagnostics
    assert budget.used < PER_INPUT_BYTE * size, budget.used / (PER_INPUT_BYTE * size)


def test_every_refusal_names_its_budget() -> None:
    assert "nodes" in _budget.refusal("file", 200_000)[0]
    assert "all files together" in _budget.refusal("aliases", 200_000)[0]
    message, hint = _budget.refusal("memory", 64 * 2**20)
    assert "64 MiB parsed" in message
    assert "fewer values" in hint


def test_an_overlay_copies_what_it_changes_and_shares_the_rest() -> None:
    base = HEAD.format(n=0) + "models:\n  m1: {maxTokens: 1}\n  m2: {maxTokens: 2}\n"
    overlay = "kind: Provider\nid: p0\noverlay: true\nmodels:\n  m1: {maxTokens: 9}\n"
    (merged,) = entities(base, overlay)
    (document, _) = merged.documents
    assert merged.data["models"] == {"m1": {"maxTokens": 9}, "m2": {"maxTokens": 2}}
    assert document.data["models"]["m1"] == {"maxTokens": 1}  # the document as written
    assert merged.data["models"]["m2"] is document.data["models"]["m2"]
    assert merged.place(("models", "m1", "maxTokens")).file == "f1.yaml"
    assert merged.place(("models", "m2", "maxTokens")).file == "f0.yaml"


def test_merging_a_big_anchor_is_read_once_not_once_a_key() -> None:
    """``<<: *a`` of an anchor of 40,000 keys scanned every place of it for each key: over
    half a minute; now the anchor's places are sorted by key once."""
    keys = 40_000
    anchored = "".join(f"  k{i}: {i}\n" for i in range(keys))
    text = HEAD.format(n=0) + "x: &a\n" + anchored + "y:\n  <<: *a\n  k7: seven\n"
    (document,) = parse_text(text, SourceFile("a.yaml", 0)).documents
    assert document.data["y"]["k7"] == "seven"
    assert document.data["y"]["k39999"] == 39_999
    assert document.place(("y", "k39999")) == document.place(("x", "k39999"))
    assert document.place(("y", "k7")).line == keys + 8


def test_what_a_document_charges_at_its_end_is_checked_in_its_own_file() -> None:
    """A file whose last document ends just past the budget is refused there, not the
    next file at its first line (found by a review)."""
    text = HEAD.format(n=0)
    probe = TreeBudget(0)
    probe.limit = 2**40
    parse_text(text, SourceFile("probe.yaml", 0), tree=probe)
    tree = TreeBudget(0)
    tree.limit = probe.used - _budget.DOCUMENT // 2  # every node fits, the document not
    first = parse_text(text, SourceFile("a.yaml", 0), tree=tree)
    assert [(d.code, d.file, d.line) for d in first.diagnostics] == [
        ("yaml-too-large", "a.yaml", 1)
    ]
    assert first.documents == ()


def test_an_alias_is_charged_what_its_strings_hold_written_out() -> None:
    """``*s`` of a 5 KB string shares the string, but anything that writes the value out
    (jsonschema's messages, an artifact) holds every copy: 20,000 aliases of it are
    refused, not 100 MB of text at the first repr (found by a review)."""
    text = (
        HEAD.format(n=0)
        + f"x-s: &s \"{'y' * 5120}\"\n"
        + "x-l: &l ["
        + ",".join(["*s"] * 1000)
        + "]\nheaders: ["
        + ",".join(["*l"] * 20)
        + "]\n"
    )
    parsed = parse_text(text, SourceFile("a.yaml", 0))
    assert [d.code for d in parsed.diagnostics] == ["yaml-too-large"]
    assert "MiB parsed" in parsed.diagnostics[0].message


def test_anchors_nested_60_deep_cost_one_copy_of_their_places() -> None:
    """Each anchor copied every place inside it: 60 nested anchors over 50,000 values held
    3 million copies. Their places are now read from the logs when an alias needs them."""
    opening = "".join(f"&a{i} [" for i in range(60))
    text = HEAD.format(n=0) + "x: " + opening + ",".join(["a"] * 50_000) + "]" * 60
    text += "\ny: *a59\n"
    tree = TreeBudget(len(text))
    (document,) = parse_text(text, SourceFile("a.yaml", 0), tree=tree).documents
    assert tree.used < tree.limit
    assert document.data["y"] == ["a"] * 50_000
    assert document.place(("x", *[0] * 59, 7)).column == len("x: " + opening) + 2 * 7 + 1


def test_a_file_is_charged_for_being_there_even_empty(tmp_path: Path) -> None:
    """100,000 empty files with long names held their paths, hashes and results at no
    charge (no input, so no bound either): each file read is charged, and one past the
    budget is refused unread (found by a review)."""
    empty = tmp_path / ("x" * 200 + ".yaml")
    empty.write_text("")
    tree = TreeBudget(0)
    tree.limit = tree.used + _budget.FILE + 2 * len(str(empty))  # room for exactly one
    assert parse_file(SourceFile(str(empty), 0), tree=tree).diagnostics == ()
    (refused,) = parse_file(SourceFile(str(empty), 0), tree=tree).diagnostics
    assert (refused.code, refused.line) == ("yaml-too-large", 1)
    assert "MiB parsed" in refused.message


def test_strings_are_charged_at_their_width_and_dates_as_three_objects() -> None:
    """CPython stores a string at the width of its widest character (an emoji makes every
    character 4 bytes); a timestamp is a datetime, a timezone and a timedelta (found by a
    review: both were charged less than they hold)."""
    wide, narrow = (TreeBudget(10**6) for _ in range(2))
    body = ",".join(f'"\U0001f600{i}{"y" * 500}"' for i in range(100))
    parse_text(HEAD.format(n=0) + f"x: [{body}]\n", SourceFile("a.yaml", 0), tree=wide)
    plain = body.replace("\U0001f600", "z")
    parse_text(HEAD.format(n=0) + f"x: [{plain}]\n", SourceFile("a.yaml", 0), tree=narrow)
    assert wide.used - narrow.used >= 100 * 3 * 500
    dates, ints = (TreeBudget(10**6) for _ in range(2))
    stamps = ",".join(f"2001-12-14t21:59:43.{i}-05:00" for i in range(100))
    parse_text(HEAD.format(n=0) + f"x: [{stamps}]\n", SourceFile("a.yaml", 0), tree=dates)
    numbers = ",".join(str(10**12 + i) for i in range(100))
    parse_text(HEAD.format(n=0) + f"x: [{numbers}]\n", SourceFile("a.yaml", 0), tree=ints)
    assert dates.used - ints.used >= 100 * 3 * _budget.NUMBER
