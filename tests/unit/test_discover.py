from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from flue_decl import _discover
from flue_decl._discover import discover
from flue_decl._files import read_capped
from tests.helpers import run_cli, write_files


def names(paths: list[str]) -> list[str]:
    return [
        os.path.relpath(f.path, paths[0]) if len(paths) == 1 else f.path
        for f in discover(paths).files
    ]


def test_byte_order_of_file_names_not_locale_or_case(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        dict.fromkeys(
            ("b.yaml", "B.yaml", "a.yml", "10-x.yaml", "9-x.yaml", "é.yaml", "Z.yaml"), ""
        ),
    )
    assert names([str(tmp_path)]) == [
        "10-x.yaml",
        "9-x.yaml",
        "B.yaml",
        "Z.yaml",
        "a.yml",
        "b.yaml",
        "é.yaml",
    ]


def test_hidden_files_editor_leftovers_subdirectories_and_other_suffixes_are_skipped(
    tmp_path: Path,
) -> None:
    write_files(
        tmp_path,
        dict.fromkeys(
            (
                "ok.yaml",
                ".hidden.yaml",
                ".#lock.yaml",
                "ok.yaml~",
                "#ok.yaml#",
                "ok.yaml.swp",
                "notes.txt",
                "sub/inner.yaml",
                "x.yaml.bak",
            ),
            "",
        ),
    )
    assert names([str(tmp_path)]) == ["ok.yaml"]


def test_entries_that_look_like_configuration_are_warned_about(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        dict.fromkeys(
            (
                "ok.yaml",
                "upper.YAML",
                "mixed.Yml",
                "space.yaml ",
                "tab.yml\t",
                "data.json",
                "DATA.JSON",
                "team/a.yaml",
                "empty-dir/.keep",
                "docs/README.md",
                ".hidden/a.yaml",
                "..2024_01_01/a.yaml",
                "notes.txt",
                "old.yaml~",
            ),
            "",
        ),
    )
    found = discover([str(tmp_path)])
    assert [f.path for f in found.files] == [str(tmp_path / "ok.yaml")]
    warned = {os.path.basename(d.file or ""): d for d in found.diagnostics}
    assert set(warned) == {
        "upper.YAML",
        "mixed.Yml",
        "space.yaml ",
        "tab.yml\t",
        "data.json",
        "DATA.JSON",
        "team",
    }
    assert {d.code for d in warned.values()} == {"ignored-file"}
    assert {d.severity.value for d in warned.values()} == {"warning"}
    assert warned["space.yaml "].hint == "rename it to 'space.yaml'"
    assert warned["mixed.Yml"].hint == "rename it to 'mixed.yml'"
    assert "name it as a layer" in (warned["team"].hint or "")


def test_layers_keep_the_order_given(tmp_path: Path) -> None:
    write_files(tmp_path, {"z.d/a.yaml": "", "a.d/a.yaml": "", "single.yaml": ""})
    found = discover([str(tmp_path / "z.d"), str(tmp_path / "a.d"), str(tmp_path / "single.yaml")])
    assert [
        (layer.index, [Path(f.path).parent.name for f in layer.files]) for layer in found.layers
    ] == [(0, ["z.d"]), (1, ["a.d"]), (2, [tmp_path.name])]
    assert [f.layer for f in found.files] == [0, 1, 2]


def test_explicit_file_is_read_whatever_its_name(tmp_path: Path) -> None:
    write_files(tmp_path, {"providers.conf": "kind: Provider"})
    assert len(discover([str(tmp_path / "providers.conf")]).files) == 1


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    found = discover([str(tmp_path / "nope")])
    assert [d.code for d in found.diagnostics] == ["input-not-found"]
    assert found.diagnostics[0].file == str(tmp_path / "nope")


def test_configmap_symlink_layout_is_followed(tmp_path: Path) -> None:
    # Kubernetes mounts a ConfigMap as ..data -> ..2024_01_01/ and name -> ..data/name.
    write_files(tmp_path, {"..2024_01_01/a.yaml": "", "..2024_01_01/b.yaml": ""})
    (tmp_path / "..data").symlink_to("..2024_01_01")
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).symlink_to(f"..data/{name}")
    (tmp_path / "dangling.yaml").symlink_to("..data/missing.yaml")
    assert names([str(tmp_path)]) == ["a.yaml", "b.yaml"]


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 250_000])
def test_read_capped_reads_at_most_one_byte_over_the_limit(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.yaml"
    data = bytes(i % 251 for i in range(size))
    path.write_bytes(data)
    assert read_capped(str(path), 100) == data[:101]
    assert read_capped(str(path), 1 << 20) == data


def test_links_out_of_the_directory_are_refused_and_odd_entries_reported(tmp_path: Path) -> None:
    from flue_decl import Severity

    tree = tmp_path / "providers.d"
    tree.mkdir()
    (tree / "10-ok.yaml").write_text("kind: ProviderConfiguration\nid: openai\n")
    (tree / "zz.yaml").symlink_to("/proc/self/environ")
    (tree / "loop.yaml").symlink_to(tree / "loop.yaml")
    os.mkfifo(tree / "pipe.yaml")  # reading it would block forever
    # A Kubernetes ConfigMap mount: every file a link through ..data, inside the mount.
    (tree / "..2026_11_26").mkdir()
    (tree / "..2026_11_26" / "20-cm.yaml").write_text("kind: ProviderConfiguration\nid: xai\n")
    (tree / "..data").symlink_to("..2026_11_26")
    (tree / "20-cm.yaml").symlink_to("..data/20-cm.yaml")
    found = discover([str(tree)])
    assert [os.path.basename(f.path) for f in found.files] == ["10-ok.yaml", "20-cm.yaml"]
    problems = {(os.path.basename(d.file or ""), d.code, d.severity) for d in found.diagnostics}
    assert problems == {
        ("zz.yaml", "symlink-outside", Severity.ERROR),
        ("loop.yaml", "skipped-file", Severity.ERROR),
        ("pipe.yaml", "skipped-file", Severity.ERROR),
    }
    # Named on the command line, a file outside is read as asked.
    outside = tmp_path / "extra.yaml"
    outside.write_text("kind: ProviderConfiguration\nid: groq\n")
    assert discover([str(outside)]).files[0].path == str(outside)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "swapped-in.yaml"
    os.mkfifo(fifo)  # what a file listed a moment ago may have become
    with pytest.raises(OSError, match="not a regular file"):
        read_capped(str(fifo), 1000)  # a blocking open would wait here for ever


def test_the_layer_hint_is_a_command_safe_to_paste(tmp_path: Path) -> None:
    team = tmp_path / "team $(id)"
    team.mkdir()
    (team / "a.yaml").write_text("kind: Provider\n")
    (tmp_path / "ok.yaml").write_text("kind: Provider\n")
    found = discover([str(tmp_path)])
    hint = next(d.hint for d in found.diagnostics if d.code == "ignored-file") or ""
    command = hint.split("`")[1]
    assert shlex.split(command) == ["flue-decl", "validate", str(tmp_path), str(team)]


def test_a_directory_of_more_entries_than_any_configuration_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its listing is held and sorted whole: 250,000 empty files took validate past its
    memory bound with no input at all (found by a review). Refused whole, exit 2."""
    monkeypatch.setattr(_discover, "MAX_ENTRIES", 5)
    for n in range(6):
        (tmp_path / f"{n}.yaml").write_text("kind: Provider\n")
    found = discover([str(tmp_path)])
    assert [d.code for d in found.diagnostics] == ["too-many-files"]
    assert found.layers[0].files == ()
    result = run_cli("validate", str(tmp_path))
    assert result.returncode == 2, result.stdout
    monkeypatch.setattr(_discover, "MAX_ENTRIES", 6)
    assert len(discover([str(tmp_path)]).layers[0].files) == 6


def test_ignored_files_past_the_first_hundred_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_discover, "MAX_IGNORED_LISTED", 3)
    for n in range(5):
        (tmp_path / f"{n}.json").write_text("{}")
    found = discover([str(tmp_path)])
    messages = [d.message for d in found.diagnostics if d.code == "ignored-file"]
    assert len(messages) == 4
    assert messages[-1] == f"2 more files in {tmp_path} that look like configuration are not read"
