"""The fast pass (``compiler/_fastparse``) and the event pass agree on every file the fast
one accepts: the same documents (values with their types, places of values and keys, typed
texts, in the same order) and the same charge to the tree's budget. Corpora: yaml-test-suite,
every YAML file of the fixtures and examples, a generated tree, and generated files with
the constructs that send a file to the event pass spliced in."""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bench.generate import generate
from flue_decl._discover import SourceFile
from flue_decl.compiler import _fastparse, _portable
from flue_decl.compiler._budget import TreeBudget
from flue_decl.compiler._document import Document
from flue_decl.compiler._parse import parse_text, read_events
from flue_decl.compiler._pipeline import compile_paths
from tests.helpers import REPO

SOURCE = SourceFile("in.yaml", 2)
pytestmark = pytest.mark.skipif(not _fastparse.ENABLED, reason="PyYAML without libyaml 0.2.6")


def _shape(document: Document) -> tuple[Any, ...]:
    """Everything a document holds, comparable with its types and orders."""
    places = document.places
    return (
        document.file,
        document.layer,
        document.index,
        document.start,
        repr(document.data),  # True is not 1, 1.0 is not 1, and key order counts
        document.broken,
        places.files,
        places.root,
        list(places.maps.items()),
        list(places.maps.by_parent),
        [(path, list(items)) for path, items in places.seqs.items()],
        places.texts,
        [(path, list(marks)) for path, marks in places.seq_texts.items()],
    )


def _agree(text: str, limit: int | None = None) -> bool:
    """Whether the fast pass read ``text``; when it did, the event pass must have read the
    same, without a problem, for the same charge."""
    tree = TreeBudget(len(text))
    if limit is not None:
        tree.limit = limit
    tree.used = 1234  # what earlier files charged
    fast = _fastparse.parse(text, SOURCE.path, SOURCE.layer, tree)
    assert tree.used == 1234  # only read: the caller charges
    if fast is None:
        return False
    documents, charge, _ = fast
    events_tree = TreeBudget(len(text))
    events_tree.limit, events_tree.used = tree.limit, 1234
    expected, problems = read_events(text, SOURCE, events_tree)
    assert problems == []
    assert [_shape(d) for d in documents] == [_shape(d) for d in expected]
    assert charge == events_tree.used - 1234
    return True


def _yaml_files() -> list[Path]:
    roots = [REPO / "tests" / "fixtures", REPO / "providers.d", REPO / "docs"]
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_yaml_test_suite_cases_agree() -> None:
    cases = json.loads(
        (REPO / "tests" / "fixtures" / "yaml-test-suite" / "cases.json").read_text("utf-8")
    )["cases"]
    read = sum(_agree(case["yaml"]) for case in cases.values())
    # A green over nothing is a red: most cases are read fast, the rest fall back.
    assert 150 < read < len(cases) - 100, read


def test_every_fixture_and_example_agrees() -> None:
    files = _yaml_files()
    read = 0
    for path in files:
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):  # the fixtures of unreadable files
            continue
        read += _agree(text)
    assert len(files) > 80
    assert read > len(files) // 2, (len(files), read)


def test_a_generated_tree_agrees_at_every_budget(tmp_path: Path) -> None:
    generate(tmp_path, 30)
    texts = [p.read_text("utf-8") for p in sorted(tmp_path.rglob("*.yaml"))]
    assert texts
    assert all(_agree(text) for text in texts)
    rng = random.Random(7)
    for text in texts:
        tree = TreeBudget(len(text))
        fast = _fastparse.parse(text, SOURCE.path, SOURCE.layer, tree)
        assert fast is not None
        need = fast[2]
        assert fast[1] <= need  # the last check asks for all the file charges, and more
        for limit in (fast[1], fast[1] + 2000, rng.randrange(fast[1] + 5000), need, need - 1):
            # Read fast only where the event pass would not refuse it; and exactly where
            # the tree can pay its need (what a worker process says: ``_parallel``).
            read = _agree(text, limit + 1234)
            refused = read_events(text, SOURCE, _at_limit(text, limit + 1234))[1]
            assert read != bool(refused), (limit, fast[1])
            assert read == (limit >= need), (limit, need)


def _at_limit(text: str, limit: int) -> TreeBudget:
    tree = TreeBudget(len(text))
    tree.limit, tree.used = limit, 1234
    return tree


_SPLICES = [
    "a: 1\na: 2\n",  # duplicate key
    "1: x\n",  # non-string key
    "? [a]\n: x\n",  # collection key
    "x: {{ env.A }}\n",  # unquoted template
    "<<: {a: 1}\n",  # merge key without an anchor
    "x: =\n",  # YAML's value tag
    "x: 0x10\n",  # refused numbers
    "x: 1_000\n",
    "x: 9007199254740993\n",
    "x: .inf\n",
    "x: [\n",  # invalid YAML
    "x: yes\n",  # typed texts kept
    "x: ~\n",
    "x: 2024-01-01\n",
    "x: 1.5e3\n",
    "x: 007\n",
    "x: '\u00e9\U0001f600'\n",
    "--- \n",
    "...\n",
    "# comment\n",
]


def _documents() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**60), 2**60),
        st.floats(allow_nan=False),
        st.text(max_size=8),
        st.sampled_from(["yes", "on", "0x1f", "1:30", "~", "null", "", "2001-12-14", "é"]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=30,
    )


@given(
    st.lists(_documents(), min_size=1, max_size=3),
    st.sampled_from([None, True, False]),
    st.lists(st.tuples(st.integers(0, 40), st.sampled_from(_SPLICES)), max_size=2),
)
def test_generated_files_agree(data: list[Any], flow: bool | None, splices: Any) -> None:
    text = yaml.safe_dump_all(data, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    lines = text.splitlines(keepends=True)
    for at, splice in splices:
        lines.insert(min(at, len(lines)), splice)
    _agree("".join(lines))


def test_what_the_fast_pass_leaves_to_the_event_pass() -> None:
    tree = TreeBudget(1 << 20)
    slow = [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: 1\na: 2\n",
        "x: " + "[" * 70 + "]" * 70 + "\n",  # past MAX_DEPTH
        "x: " + "[" * 2000,  # past libyaml's nesting limit
        "a: b\n" + "#" * _fastparse.MAX_BYTES,  # too large to compose whole
        "x: 0x10\n",
        "x: [\n",
        "x: [a, a",
        "kind: Provider\nid: \ud800\n",  # a lone surrogate: not encodable for libyaml
    ]
    for text in slow:
        assert _fastparse.parse(text, "in.yaml", 0, tree) is None, text[:40]
    # and the event pass reports what the file holds, at its place
    parsed = parse_text("a: 1\na: 2\n", SOURCE)
    assert [(d.code, d.line) for d in parsed.diagnostics] == [("duplicate-key", 2)]
    parsed = parse_text("kind: Provider\nid: \ud800\n", SOURCE)
    assert [d.code for d in parsed.diagnostics] == ["yaml-syntax"]


@given(st.text(alphabet="ab \t\n%!#|>-+0:,]}{[\\uU\ufeff", max_size=30))
def test_the_portability_prefilter_matches_its_pattern(text: str) -> None:
    """``_portable`` checks the characters its pattern needs before running it (the pattern
    took a tenth of validate): the check says yes exactly where the pattern matches."""
    assert _portable._may_hold_one(text) == (_portable._MAYBE.search(text) is not None)


def _made(places: Any) -> bool:
    try:
        object.__getattribute__(places, "maps")
    except AttributeError:
        return False
    return True


def test_validate_of_a_valid_tree_makes_no_places(tmp_path: Path) -> None:
    """Places are made when read (``LatePlaces``): a valid tree, overlays and removals
    included, reads none; a diagnostic reads its document's, and gets them right."""
    generate(tmp_path, 40)
    compiled = compile_paths(tmp_path / "providers.d")
    assert compiled.ok
    overlaid = [e for e in compiled.entities if len(e.documents) > 1]
    assert overlaid  # the generated tree has overlays, some removing keys with null
    assert any(e.removed for e in overlaid)
    assert not any(_made(d.places) for d in compiled.documents)
    assert not any(_made(e.places) for e in compiled.entities)
    entity = overlaid[0]
    path = next(iter(entity.removed))
    assert entity.removed[path].line == entity.documents[1].key_place(path).line
    assert _made(entity.documents[1].places)


def test_places_made_from_many_threads_at_once(tmp_path: Path) -> None:
    generate(tmp_path, 20)
    expected = [
        sorted(e.places.items()) for e in compile_paths(tmp_path / "providers.d").entities
    ]  # made one at a time
    entities = compile_paths(tmp_path / "providers.d").entities
    start = threading.Barrier(8)

    def read(_: int) -> list[list[Any]]:
        start.wait()
        return [sorted(e.places.items()) for e in entities]

    with ThreadPoolExecutor(8) as pool:
        for found in pool.map(read, range(8)):
            assert found == expected


def test_writing_an_artifact_holds_no_files_places_and_they_are_made_again(
    tmp_path: Path,
) -> None:
    """The artifact's writer forgets each call's places once its sources are written; read
    again, they are made again, the same (and the artifact is the same as one written from
    places that were all held)."""
    from flue_decl.runtime import artifact_text

    generate(tmp_path, 24)
    held = compile_paths(tmp_path / "providers.d")
    expected = [sorted(e.places.items()) for e in held.entities]  # all made, all kept
    text = artifact_text(held.calls, layers=held.layer_roots, files=held.hashes)
    compiled = compile_paths(tmp_path / "providers.d")
    assert artifact_text(compiled.calls, layers=compiled.layer_roots, files=compiled.hashes) == (
        text
    )
    single = [e for e in compiled.entities if len(e.documents) == 1]
    assert single
    assert not any(_made(e.places) for e in single)
    assert not any(_made(d.places) for d in compiled.documents)
    left = [d for d in compiled.documents if d.places._source.found]  # type: ignore[attr-defined]
    assert left == []  # nor made and kept for later
    assert [sorted(e.places.items()) for e in compiled.entities] == expected


def test_places_forgotten_while_other_threads_read_them(tmp_path: Path) -> None:
    generate(tmp_path, 12)
    expected = [
        sorted(e.places.items()) for e in compile_paths(tmp_path / "providers.d").entities
    ]
    compiled = compile_paths(tmp_path / "providers.d")
    start = threading.Barrier(4)

    def read(turn: int) -> list[list[Any]]:
        start.wait()
        found = []
        for _ in range(5):
            for call in compiled.calls:
                if turn == 0:
                    call.origins.forget()  # type: ignore[attr-defined]
            found = [sorted(e.places.items()) for e in compiled.entities]
        return found

    with ThreadPoolExecutor(4) as pool:
        for found in pool.map(read, range(4)):
            assert found == expected


def test_places_read_again_after_the_writer_walk_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader going through every call after the artifact's writer forgot their places
    (build_registry, explain) walks each file once, not once per document in it."""
    from flue_decl.runtime import artifact_text

    docs = "".join(
        f"---\nkind: Provider\nid: p{i}\napi: openai-completions\nbaseUrl: https://p{i}.example\n"
        for i in range(40)
    )
    (tmp_path / "many.yaml").write_text(docs)
    compiled = compile_paths(tmp_path)
    artifact_text(compiled.calls, layers=compiled.layer_roots, files=compiled.hashes)
    walks = []
    walk = _fastparse._read

    def counted(*args: Any) -> Any:
        walks.append(args[1])
        return walk(*args)

    monkeypatch.setattr(_fastparse, "_read", counted)
    rows = [dict(call.origins) for call in compiled.calls]
    assert len(rows) == 40
    assert walks == [str(tmp_path / "many.yaml")]
