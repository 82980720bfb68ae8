"""What a loaded tree costs CPython's cyclic collector: a full collection rescans every
object it tracks, stalling every thread, so the places and origins of every field (a
million in a large tree) are kept as plain tuples it stops tracking."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flue_decl import load_registry
from flue_decl.cli import main
from flue_decl.compiler import compile_paths
from flue_decl.runtime import read_artifact

ROOT = Path(__file__).resolve().parents[3]


def provider(index: int) -> str:
    models = "\n".join(
        f"  m{j}:\n    contextWindow: {8192 * (j + 1)}\n    maxTokens: 1024" for j in range(10)
    )
    return textwrap.dedent(
        f"""\
        kind: Provider
        id: p{index}
        api: openai-completions
        baseUrl: "{{{{ env.P{index}_URL | default('https://p{index}.example.com/v1') }}}}"
        apiKey: "{{{{ env.P{index}_KEY | default('') }}}}"
        headers: {{X-Team: team-{index % 7}}}
        models:
        """
    ) + models + "\n"


def tree(root: Path, files: int) -> Path:
    root.mkdir()
    for i in range(files):
        (root / f"{i:04d}.yaml").write_text(provider(i))
    return root


def test_places_and_origins_are_untracked_plain_values(tmp_path: Path) -> None:
    compilation = compile_paths([str(tree(tmp_path / "providers.d", 3))])
    document, call = compilation.documents[0], compilation.calls[0]  # calls: built on use
    # A call holds no rows: they are made from its entity's places when read (and only the
    # last call's are kept); once a collection has seen them, they are untracked.
    assert not isinstance(call.origins._rows, dict)  # type: ignore[attr-defined]
    rows = call.origins.rows()  # type: ignore[attr-defined]
    document.places.maps  # noqa: B018 - made when first read, as a diagnostic would
    gc.collect()
    for spot in rows.values():
        assert type(spot) is tuple
        assert not gc.is_tracked(spot)
    # A node's value place and its key's are one int, in a table of ints per mapping (a
    # node each in a dense file): nothing the collector tracks.
    tables = list(document.places.maps.values())
    assert tables
    assert not any(gc.is_tracked(table) for table in tables)
    path = ("models", "m1")
    assert document.places.spot(path) is not None
    assert document.places.key_spot(path) is not None
    # Shown as the public types all the same.
    origin = call.origins[("models", "m1", "maxTokens")]
    assert str(origin.place).endswith("0000.yaml:13:16")
    assert document.key_place(("models", "m1")).line == 11


LOADS = {
    "load_registry": "kept = flue_decl.load_registry(BIG, env={})",
    "load_artifact": "kept = flue_decl.load_artifact(ARTIFACT, env={})",
    # A watch after two reloads of an edited file: the last registry and nothing of the
    # ones before (nor of the decoded calls the reloads built them from).
    "watch": """live = flue_decl.watch(BIG, env={}, interval=3600)
for k in range(2):
    edited = pathlib.Path(BIG, '0000.yaml')
    edited.write_text(edited.read_text() + f'# {k}\\n')
    generation = live.snapshot().generation
    while live.snapshot().generation == generation:
        live.poll_once()
    assert live.snapshot().last_reload_ok""",
}


@pytest.mark.parametrize("load", sorted(LOADS))
def test_a_loaded_tree_keeps_no_tracked_objects_per_call(tmp_path: Path, load: str) -> None:
    """A full collection traverses every object the collector tracks, stalling every
    request thread: a registry keeps its payloads packed (``runtime._stored``) and its
    origins as tuples of strings, and a reload keeps nothing of the calls it decoded."""
    big = tree(tmp_path / "big", 220)
    artifact = tmp_path / "big.json"
    assert main(["compile", "--isolated", str(big), "-o", str(artifact)]) == 0
    # In a fresh process, so that no other test's objects or caches count.
    code = textwrap.dedent(
        f"""\
        import gc, json, pathlib, sys
        import flue_decl
        BIG, ARTIFACT = {str(big)!r}, {str(artifact)!r}
        def tracked():  # as in a service after a few full collections: each untracks a
            # level more of nested tuples (a template's parse is six deep)
            for _ in range(8):
                gc.collect()
            return len(gc.get_objects())
        # Everything imported and every cache warmed once, on a tree of 20 files.
        flue_decl.load_registry({str(tree(tmp_path / "small", 20))!r}, env={{}})
        flue_decl.watch({str(tmp_path / "small")!r}, env={{}}, interval=3600).stop()
        before = tracked()
        """
    ) + LOADS[load] + "\nprint(json.dumps((tracked() - before) / 220))\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    per_call = json.loads(done.stdout)
    # One call per file. Kept as objects, its 60 places and origins alone were 120 tracked
    # objects, and a payload's mappings, its Secret and its origins 5 more (9 in a watch,
    # which kept the decoded calls).
    assert per_call < 0.5, per_call  # a watch: its thread, its polling child...


def test_an_artifacts_origins_are_untracked_once_read(tmp_path: Path) -> None:
    artifact = tmp_path / "a.json"
    source = tree(tmp_path / "providers.d", 2)
    assert main(["compile", "--isolated", str(source), "-o", str(artifact)]) == 0
    calls = read_artifact(str(artifact))
    origin = calls[0].origins[("models", "m0")]
    assert (origin.place.line, origin.place.column) == (9, 5)
    gc.collect()
    rows = calls[0].origins._rows()  # type: ignore[attr-defined]
    assert not any(gc.is_tracked(row) for row in rows.values())
    assert load_registry(str(source), env={}).resolve_model("p0/m0").id == "m0"
    assert json.loads(artifact.read_text())["format"] == "flue-decl-artifact"
