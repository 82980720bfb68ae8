"""Settings files: found by walking up to the project's root, read strictly (every problem at
its line), merged under what a caller gives, and honoured by the Python API when named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flue_decl import SettingsError, compile_paths, load_artifact, load_registry, watch
from flue_decl._settingkeys import Settings
from flue_decl._settings import find_settings, read_settings, settings_for, untrusted
from tests.helpers import write_files

PROVIDER = "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: http://localhost:1/v1\n"


def codes(error: SettingsError) -> list[tuple[str, int | None, str]]:
    return [(d.code, d.line, d.message) for d in error.diagnostics]


def test_the_nearest_file_wins_and_the_walk_stops_at_the_git_root(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "flue-decl.toml": "strict = true\n",  # above the project root: never read
            "proj/.git/HEAD": "",
            "proj/pyproject.toml": "[tool.flue-decl]\nstrict = false\n",
            "proj/a/flue-decl.toml": "format = 'json'\n",
            "proj/a/pyproject.toml": "[tool.flue-decl]\nformat = 'sarif'\n",
            "proj/a/b/pyproject.toml": "[project]\nname = 'x'\n",  # no table: does not count
            "proj/c/d/.keep": "",
        },
    )
    proj = tmp_path / "proj"
    found = find_settings(proj / "a" / "b")
    assert found is not None
    assert Path(found).resolve() == proj / "a" / "flue-decl.toml"
    found = find_settings(proj / "c" / "d")
    assert found is not None
    assert Path(found).resolve() == proj / "pyproject.toml"
    (proj / "pyproject.toml").unlink()
    assert find_settings(proj / "c" / "d") is None  # .git stops the walk before tmp_path's


def test_without_git_the_walk_goes_to_the_root(tmp_path: Path) -> None:
    write_files(tmp_path, {"flue-decl.toml": "strict = true\n", "x/y/.keep": ""})
    found = find_settings(tmp_path / "x" / "y")
    assert found is not None
    assert Path(found).resolve() == tmp_path / "flue-decl.toml"


def test_a_broken_pyproject_of_someone_else_is_not_ours(tmp_path: Path) -> None:
    write_files(tmp_path, {".git/HEAD": "", "pyproject.toml": "[project\n"})
    assert find_settings(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text("[tool.flue-decl\nstrict = true\n")
    found = find_settings(tmp_path)
    assert found is not None
    with pytest.raises(SettingsError) as caught:
        read_settings(found)
    ((code, line, message),) = codes(caught.value)
    assert (code, line) == ("invalid-settings", 1)
    assert message.startswith("not valid TOML")


def test_every_key_and_its_source(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "conf/flue-decl.toml": """\
                paths = ["providers.d", "../overlays/prod.d"]
                strict = true
                known-providers = ["inhouse"]
                handler-modules = ["acme_llm", "acme.protocols"]
                secrets-dir = "secrets"
                max-file-bytes = 4096
                format = "github"
                ignore = ["yaml11-boolean"]

                [per-file-ignores]
                "providers.d/legacy-*" = ["literal-secret"]
                """
        },
    )
    got = read_settings(tmp_path / "conf" / "flue-decl.toml")
    root = str(tmp_path / "conf")
    assert got.layers() == (
        os.path.join(root, "providers.d"),
        os.path.join(str(tmp_path), "overlays", "prod.d"),
    )
    assert got.strict is True
    assert got.known_providers == ("inhouse",)
    assert got.handler_modules == ("acme_llm", "acme.protocols")
    assert got.secrets_dir == os.path.join(root, "secrets")
    assert (got.max_file_bytes, got.format) == (4096, "github")
    assert got.ignore == {"yaml11-boolean"}
    assert got.per_file_ignores == (("providers.d/legacy-*", frozenset({"literal-secret"})),)
    where = str(tmp_path / "conf" / "flue-decl.toml")
    assert got.sources["strict"] == f"{where}:2"
    assert got.sources["per-file-ignores"] == f"{where}:10"


def test_pyproject_table_and_flue_decl_toml_at_the_top_level(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "[tool.flue-decl]\nstrict = true\n"})
    assert read_settings(tmp_path / "pyproject.toml").strict is True
    write_files(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n"})
    with pytest.raises(SettingsError) as caught:
        read_settings(tmp_path / "pyproject.toml")
    assert "no [tool.flue-decl] table" in caught.value.diagnostics[0].message


def test_every_problem_at_its_line_with_a_hint(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "flue-decl.toml": """\
                paths = "providers.d"
                stirct = true
                max-file-bytes = 0
                format = "yaml"
                handler-modules = ["acme-llm"]
                ignore = ["unknown-key", "yaml11-bool"]
                known-providers = [1]
                """
        },
    )
    with pytest.raises(SettingsError) as caught:
        read_settings(tmp_path / "flue-decl.toml")
    got = {(line, message) for _, line, message in codes(caught.value)}
    assert got == {
        (1, "`paths` must be a list of non-empty strings"),
        (2, "unknown settings key `stirct`"),
        (3, "`max-file-bytes` must be a positive number of bytes"),
        (4, "`format` must be one of 'auto', 'text', 'json', 'github', 'sarif'"),
        (5, '`handler-modules` must be a list of module names (["acme_llm"])'),
        (6, "`unknown-key` is an error and cannot be ignored"),
        (6, "unknown code `yaml11-bool` in `ignore`"),
        (7, "`known-providers` must be a list of non-empty strings"),
    }
    hints = {d.message: d.hint for d in caught.value.diagnostics}
    assert hints["unknown settings key `stirct`"] == "did you mean `strict`?"
    assert hints["unknown code `yaml11-bool` in `ignore`"] == "did you mean `yaml11-boolean`?"


def test_explicit_values_win_over_the_file_which_wins_over_defaults(tmp_path: Path) -> None:
    write_files(tmp_path, {"flue-decl.toml": "strict = true\nmax-file-bytes = 10\n"})
    merged = settings_for(tmp_path / "flue-decl.toml", max_file_bytes=20, strict=None)
    assert (merged.strict, merged.max_file_bytes, merged.format) == (True, 20, "auto")
    assert merged.sources["max-file-bytes"] == "command line"
    assert merged.sources["strict"].endswith("flue-decl.toml:1")
    assert merged.sources["format"] == "default"
    assert settings_for(None) == Settings(sources=settings_for(None).sources)


def test_the_python_api_reads_settings_only_when_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(
        tmp_path,
        {
            "flue-decl.toml": 'paths = ["conf"]\nknown-providers = ["inhouse"]\n',
            "conf/a.yaml": PROVIDER,
            "conf/b.yaml": "kind: ProviderConfiguration\nid: inhouse\n",
        },
    )
    settings = tmp_path / "flue-decl.toml"
    assert load_registry(settings=settings).resolve_model("p/m").provider == "p"
    assert compile_paths(settings=str(settings)).ok
    # A service never reads one by walking up: here the default providers.d is missing.
    monkeypatch.chdir(tmp_path)
    assert [d.code for d in compile_paths().errors] == ["input-not-found"]
    # Explicit paths win over the file's.
    only = compile_paths(tmp_path / "conf" / "a.yaml", settings=settings)
    assert only.ok
    assert only.files == 1
    with watch(settings=settings, env={}) as live:
        assert live.registry.resolve_model("p/x").provider == "p"


@pytest.mark.parametrize(
    "bad", [b"providers.d", {"providers.d"}, 3, {"providers.d": 1}, [b"x"], ["ok", 3]]
)
def test_paths_that_are_not_paths_are_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="expected a path"):
        load_registry(bad)  # type: ignore[arg-type]


def test_one_path_as_str_or_pathlike_is_one_layer(tmp_path: Path) -> None:
    write_files(tmp_path, {"providers.d/a.yaml": PROVIDER})
    for given in (str(tmp_path / "providers.d"), tmp_path / "providers.d"):
        assert load_registry(given).resolve_model("p/m").provider == "p"
        assert compile_paths(given).files == 1
    with pytest.raises(TypeError, match="expected a path"):
        load_artifact([str(tmp_path / "x.json")])  # type: ignore[arg-type]


def test_lines_are_counted_as_toml_counts_them(tmp_path: Path) -> None:
    # U+2028 is a line break to str.splitlines, not to TOML: a comment may hold one.
    write_files(tmp_path, {"flue-decl.toml": "# a\u2028b\nstrict = true\nstirct = 1\n"})
    with pytest.raises(SettingsError) as caught:
        read_settings(tmp_path / "flue-decl.toml")
    assert [line for _, line, _ in codes(caught.value)] == [3]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving files owners needs root"
)
def test_a_found_settings_link_must_belong_to_this_user_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another user's link in a shared directory, to a harmless file owned by root: its
    # target alone passes, and the paths in it would be read relative to the link.
    target = tmp_path / "root-owned.toml"
    target.write_text("")
    os.chown(target, 0, 0)
    link = tmp_path / "flue-decl.toml"
    link.symlink_to(target)
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    os.lchown(link, 0, 0)
    assert untrusted(str(link)) is None  # root's link to root's file: fine
    os.lchown(link, 1234, 1234)
    assert untrusted(str(link)) == "it belongs to another user"


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("[project]\nname = 'x'\n", False),
        ("[tool.flue-decl]\nstrict = true\n", True),
        ("[tool.'flue-decl']\nstrict = true\n", True),
        ('[tool."flue\\u002Ddecl"]\nstrict = true\n', True),  # only an escape spells it
        ('[tool."\\U00000066lue-decl"]\nstrict = true\n', True),
        ('[tool."flue_decl"]\nstrict = true\n', False),
    ],
)
def test_a_pyproject_counts_however_it_spells_the_table(
    tmp_path: Path, text: str, counts: bool
) -> None:
    write_files(tmp_path, {".git/HEAD": "", "pyproject.toml": text})
    found = find_settings(tmp_path)
    assert (found is not None) is counts
