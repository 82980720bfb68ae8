"""Reloads compiled in a child process (``flue_decl._isolated``): the same registry as a
compile in the service's process, the same errors at the same places, a child that cannot
start or dies is one failed reload, and the compile's objects never reach the service's
process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import flue_decl
from flue_decl import ReloadError, ValidationError, _isolated
from flue_decl._isolated import MARKER, _received, child_environment, compile_in_child
from flue_decl._load import _settings
from flue_decl._service import ServiceOptions
from flue_decl.views import explain

ROOT = Path(__file__).resolve().parents[2]


def provider(name: str, tokens: int) -> str:
    return textwrap.dedent(
        f"""\
        kind: Provider
        id: {name}
        api: openai-completions
        baseUrl: "{{{{ env.URL_{name.upper()} | default('https://{name}.example.com/v1') }}}}"
        apiKey: "{{{{ env.KEY_{name.upper()} }}}}"
        models:
          m:
            maxTokens: {tokens}
        """
    )


def tree(root: Path) -> Path:
    root.mkdir()
    (root / "a.yaml").write_text(provider("a", 100))
    (root / "b.yaml").write_text(provider("b", 200))
    return root


ENV = {"KEY_A": "ka", "KEY_B": "kb"}


def reload(live: flue_decl.Watch) -> bool:
    """Two polls: a change is loaded once it stayed the same for one."""
    live.poll_once()
    return live.poll_once()


def test_a_reload_in_the_child_serves_what_a_compile_here_would(tmp_path: Path) -> None:
    root = tree(tmp_path / "providers.d")
    live = flue_decl.watch(str(root), env=ENV, interval=3600)
    here = flue_decl.watch(str(root), env=ENV, interval=3600, isolated_reloads=False)
    (root / "a.yaml").write_text("# edited\n" + provider("a", 150))
    assert reload(live)
    assert reload(here)
    assert live.generation == here.generation == 2
    for spec in ("a/m", "b/m"):
        ours, theirs = live.registry.resolve_model(spec), here.registry.resolve_model(spec)
        assert ours == theirs
    assert live.registry.api_key("a/m") == "ka"
    # Origins came through the artifact: explain shows the edited file's line.
    rows = {row.field: row.where() for row in explain(live.registry, "a/m")}
    assert rows["maxTokens"].startswith(f"{root / 'a.yaml'}:9,"), rows
    # What the load read is what the next poll sees: nothing changed, nothing reloads.
    assert not reload(live)
    assert live.generation == 2


def test_a_bad_tree_in_the_child_reports_every_error_at_its_place(tmp_path: Path) -> None:
    root = tree(tmp_path / "providers.d")
    live = flue_decl.watch(str(root), env=ENV, interval=3600)
    (root / "a.yaml").write_text(provider("a", 100).replace("maxTokens: 100", "maxTokens: x"))
    (root / "b.yaml").write_text("kind: [unclosed\n")
    assert not reload(live)
    error = live.last_error
    assert isinstance(error, ValidationError)
    places = sorted((Path(d.file or "").name, d.line, d.code) for d in error.diagnostics)
    assert ("a.yaml", 8, "wrong-type") in places, places
    assert any(name == "b.yaml" for name, _, _ in places), places
    assert live.registry.resolve_model("a/m").max_tokens == 100  # the last good one serves
    assert live.generation == 1


@pytest.mark.parametrize(
    ("executable", "said"),
    [("/nonexistent/python3", "cannot start"), ("/bin/false", "status 1 and no result")],
)
def test_a_child_that_cannot_start_or_dies_is_one_failed_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executable: str, said: str
) -> None:
    root = tree(tmp_path / "providers.d")
    live = flue_decl.watch(str(root), env=ENV, interval=3600)
    (root / "a.yaml").write_text("# edited\n" + provider("a", 150))
    monkeypatch.setattr(sys, "executable", executable)
    assert not reload(live)
    error = live.last_error
    assert error is not None
    [diagnostic] = error.diagnostics
    assert diagnostic.code == "io-error"
    assert said in diagnostic.message
    assert diagnostic.hint is not None
    assert "isolated_reloads=False" in diagnostic.hint
    assert live.registry.resolve_model("a/m").max_tokens == 100
    assert not live.poll_once()  # tried again at the next poll, failing again: reported
    assert isinstance(live.last_error, ReloadError)
    monkeypatch.undo()
    assert live.poll_once()  # the same tree at the next poll, now that a child starts
    assert live.last_error is None
    assert live.registry.resolve_model("a/m").max_tokens == 150


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses undecodable file names")
def test_file_names_that_are_not_utf8_come_back_from_the_child(tmp_path: Path) -> None:
    root = tree(tmp_path / "providers.d")
    odd = os.path.join(os.fsencode(root), b"c-\xff.yaml")
    with open(odd, "w") as fh:
        fh.write(provider("c", 300))
    settings = _settings(str(root), None, ServiceOptions())
    compiled = compile_in_child(settings, allow_empty=False)
    names = sorted(os.path.basename(path) for _, path in compiled.files)
    assert names == ["a.yaml", "b.yaml", os.fsdecode(b"c-\xff.yaml")]
    assert {path for path, _ in compiled.hashes} == {path for _, path in compiled.files}
    assert sorted(call.target for call in compiled.calls) == ["a", "b", "c"]


def test_a_reload_leaves_in_this_process_only_what_the_registry_keeps(tmp_path: Path) -> None:
    # In a fresh process: other tests' objects and caches must not count.
    code = textwrap.dedent(
        f"""\
        import gc, json, pathlib, sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.unit.runtime.test_collector_load import tree
        import flue_decl
        root = tree(pathlib.Path({str(tmp_path)!r}) / "big", 200)
        out = {{}}
        for isolated in (False, True):
            live = flue_decl.watch(str(root), env={{}}, interval=3600,
                                   isolated_reloads=isolated)
            edited = root / "0001.yaml"
            edited.write_text(edited.read_text() + "\\n# " + str(isolated) + "\\n")
            gc.collect()
            gc.disable()  # what stays until a collection: what a collection would scan
            before = len(gc.get_objects())
            live.poll_once()
            assert live.poll_once()
            out[str(isolated)] = (len(gc.get_objects()) - before) / 200
            gc.enable()
        print(json.dumps(out))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    per_file = json.loads(done.stdout)
    # Compiled here, a reload leaves ~80 objects per file for the collector (documents,
    # entities, places in cycles); compiled in the child, the new registry's few.
    assert per_file["False"] > 40, per_file
    assert per_file["True"] < 10, per_file


def test_the_child_gets_no_variable_of_the_services_environment_but_the_locale() -> None:
    environ = {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "OPENAI_API_KEY": "sk-secret",
        "PYTHONPATH": "/elsewhere",
        "FLUE_DECL_SECRETS_DIR": "/run/secrets",
    }
    assert child_environment(environ) == {"PATH": "/usr/bin", "LANG": "C.UTF-8"}


def test_what_a_site_hook_prints_before_the_answer_is_skipped(tmp_path: Path) -> None:
    root = tree(tmp_path / "providers.d")
    settings = _settings(str(root), None, ServiceOptions())
    real = compile_in_child(settings, allow_empty=False)
    encoding = f"{sys.getfilesystemencoding()}/{sys.getfilesystemencodeerrors()}".encode()
    header = b'{"encoding": "' + encoding + b'", "error": "ValidationError", "diagnostics": []}'
    noisy = b"sitecustomize says hello\n\0" + MARKER + header + b"\n"
    with pytest.raises(ValidationError):  # read past the noise: the tree's own answer
        _received(noisy, 0)
    with pytest.raises(ReloadError, match="status 3 and no result"):
        _received(b"Traceback ...\n", 3)
    assert [call.target for call in real.calls] == ["a", "b"]


def test_a_stuck_compiler_process_is_killed_and_the_reload_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path / "providers.d")
    live = flue_decl.watch(str(root), env=ENV, interval=3600)
    (root / "a.yaml").write_text("# edited\n" + provider("a", 150))
    monkeypatch.setattr(_isolated, "TIMEOUT", 0.01)  # no interpreter starts that fast
    assert not reload(live)
    assert isinstance(live.last_error, ReloadError)
    assert "took longer than" in live.last_error.diagnostics[0].message
    assert live.registry.resolve_model("a/m").max_tokens == 100


def test_a_child_killed_while_writing_is_one_failed_reload_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Half an answer (the OOM killer, say): not the tree's fault, so not remembered as
    # what these bytes give.
    root = tree(tmp_path / "providers.d")
    live = flue_decl.watch(str(root), env=ENV, interval=3600)
    (root / "a.yaml").write_text("# edited\n" + provider("a", 150))
    real = subprocess.run

    def killed_half_way(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        done = real(*args, **kwargs)
        return subprocess.CompletedProcess(done.args, -9, done.stdout[: len(done.stdout) // 2])

    monkeypatch.setattr(subprocess, "run", killed_half_way)
    assert not reload(live)
    assert isinstance(live.last_error, ReloadError)
    assert "status -9" in live.last_error.diagnostics[0].message
    monkeypatch.undo()
    assert live.poll_once()
    assert live.registry.resolve_model("a/m").max_tokens == 150


@pytest.mark.parametrize(
    "answer",
    [
        b'{"encoding": "ENC", "files": [], "hashes": []}\n{"format": "flue-decl-art',
        b'{"encoding": "ENC", "files": [[0]], "hashes": []}\n',
        b'{"encoding": "ENC", "files": [0], "hashes": []}\n',
        b'{"encoding": "ENC", "error": "ValidationError", "diagnostics": [{"code": 1}]}\n',
        b'{"encoding": "other/strict", "files": [], "hashes": []}\n',
    ],
    ids=["cut artifact", "bad files", "odd files", "bad diagnostics", "other encoding"],
)
def test_a_garbled_answer_is_a_reload_error_never_the_trees(answer: bytes) -> None:
    encoding = f"{sys.getfilesystemencoding()}/{sys.getfilesystemencodeerrors()}"
    with pytest.raises(ReloadError):
        _received(MARKER + answer.replace(b"ENC", encoding.encode()), 0)


def test_the_child_imports_this_flue_decl_whatever_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # '' in sys.path is the directory flue_decl was imported from, not the one a service
    # has moved to since: the child gets absolute entries, this package's first.
    path = _isolated.child_path()
    assert path[0] == str(Path(flue_decl.__file__).resolve().parent.parent)
    assert all(os.path.isabs(entry) for entry in path)
    root = tree(tmp_path / "providers.d")
    live = flue_decl.watch(str(root), env=ENV, interval=3600)
    monkeypatch.chdir(tmp_path)
    (root / "a.yaml").write_text("# edited\n" + provider("a", 150))
    assert reload(live)


def test_a_compile_that_raised_in_the_child_fails_those_bytes_like_one_here() -> None:
    with pytest.raises(flue_decl.ConfigError) as raised:
        _received(MARKER + b'{"crash": "AssertionError"}\n', 0)
    assert not isinstance(raised.value, ReloadError)  # not tried again until an edit
    assert "AssertionError" in raised.value.diagnostics[0].message
