"""What a flood of findings keeps: a few hundred diagnostics, then a count, whatever the
file holds (each kept one costs memory; 100 a file are shown)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flue_decl._errors import Severity
from flue_decl.compiler import _parse
from flue_decl.compiler._budget import DIAGNOSTIC, DIAGNOSTICS_KEPT
from flue_decl.compiler._found import MAX_KEPT
from flue_decl.compiler._pipeline import compile_paths
from flue_decl.compiler._schema import MAX_SCHEMA_ERRORS

HEAD = "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example/v1\n"


def _compile(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    (tmp_path / "a.yaml").write_text(text)
    found = compile_paths([str(tmp_path / "a.yaml")])
    return [(d.code, d.message) for d in found.diagnostics]


def test_the_parser_keeps_200_problems_of_a_file_and_counts_the_rest(tmp_path: Path) -> None:
    found = _compile(tmp_path, HEAD + "x: {" + ", ".join(["a: 1"] * 501) + "}\n")
    notices = [message for code, message in found if code == "too-many-problems"]
    assert "300 more problems found reading this file are not listed" in notices
    # 200 kept, the notice, and `x` (no such key): 202 found, 100 shown, "at least" the rest
    assert "at least 102 more problems in this file are not shown" in notices
    assert sum(code == "duplicate-key" for code, _ in found) == 98  # and x, the notice


def test_the_schema_check_of_a_document_stops_after_200_errors(tmp_path: Path) -> None:
    models = "".join(f"  m{k}: 1\n" for k in range(MAX_SCHEMA_ERRORS + 50))
    found = _compile(tmp_path, HEAD + "models:\n" + models)
    stopped = f"the schema check of this document stopped after {MAX_SCHEMA_ERRORS} errors"
    assert ("too-many-problems", stopped) in found
    assert sum(code == "wrong-type" for code, _ in found) == 99  # and the notice: 100


def test_one_code_floods_no_further_than_max_kept(tmp_path: Path) -> None:
    models = "".join(f"  m{k}: {{contextWindow: 8, maxTokens: 9}}\n" for k in range(MAX_KEPT + 7))
    found = _compile(tmp_path, HEAD + "models:\n" + models)
    notice = (
        "7 more `max-tokens-exceeds-context` problems in this file were found and are not listed"
    )
    assert ("max-tokens-exceeds-context", notice) in found  # silenced as the code is
    shown = "at least 901 more problems in this file are not shown"  # 1,000 kept, 1 count
    assert ("too-many-problems", shown) in found


def test_what_silences_a_flooding_code_silences_its_count(tmp_path: Path) -> None:
    models = "".join(f"  m{k}: {{contextWindow: 8, maxTokens: 9}}\n" for k in range(MAX_KEPT + 7))
    text = "# flue-decl: ignore-file[max-tokens-exceeds-context]\n" + HEAD + "models:\n" + models
    (tmp_path / "a.yaml").write_text(text)
    found = compile_paths([str(tmp_path / "a.yaml")])
    assert found.reported == (), found.reported[:3]


def test_a_file_too_big_to_place_is_refused_whatever_max_file_bytes_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Places keep lines and columns in 32 bits: a file past MAX_PLACEABLE (2 GiB) is not
    read, as if max-file-bytes were that (shown here with a small stand-in)."""
    monkeypatch.setattr(_parse, "MAX_PLACEABLE", 100)
    (tmp_path / "a.yaml").write_text(HEAD + "name: " + "x" * 100 + "\n")
    found = compile_paths([str(tmp_path / "a.yaml")], max_file_bytes=10**12)
    assert [d.code for d in found.diagnostics] == ["file-too-large"]


def test_what_a_compile_keeps_of_its_diagnostics_is_bounded(tmp_path: Path) -> None:
    """Two hundred small files of unknown keys held 80,000 kept diagnostics (1.4 KB each,
    for 7 bytes of YAML a key): 110 MB for 1.7 MB of input. A compile keeps at most
    DIAGNOSTICS_KEPT bytes of them; the rest are counted, by file where some of the code
    were kept there, else for the tree, as grave as what they stand for."""
    tree = tmp_path / "providers.d"
    tree.mkdir()
    keys = ", ".join(f"k{j}: 1" for j in range(21))
    models = "".join(f"  m{k}: {{{keys}}}\n" for k in range(50))
    for n in range(200):
        head = HEAD.replace("id: p", f"id: p{n}")
        (tree / f"{n:03d}.yaml").write_text(head + "models:\n" + models)
    found = compile_paths(tree).diagnostics
    kept = [d for d in found if d.code == "unknown-key" and "not listed" not in d.message]
    assert 0 < len(kept) <= DIAGNOSTICS_KEPT // DIAGNOSTIC
    (tree_wide,) = [d for d in found if d.file is None and d.code == "unknown-key"]
    assert "more files were found and are not listed" in tree_wide.message
    assert tree_wide.severity is Severity.ERROR
    listed = {d.file for d in kept}
    assert str(tree / "000.yaml") in listed
    assert str(tree / "199.yaml") not in listed
