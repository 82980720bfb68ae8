"""An artifact's sources (format 3, ``runtime/_sources``): what is read back is exactly
what was compiled, field by field and in order, whatever the call's shape."""

from __future__ import annotations

import json
from pathlib import Path

from flue_decl._domain import Call, Op, OriginRow, Origins
from flue_decl._errors import JsonPath
from flue_decl.compiler._pipeline import compile_paths
from flue_decl.runtime import _sources, artifact_text, read_artifact
from tests.helpers import write_files

TREE = {
    "base/10-api.yaml": "kind: ApiProvider\napi: ws-rpc\nhandler: json:dumps\n",
    "base/20-p.yaml": """
        kind: Provider
        id: p
        api: openai-completions
        baseUrl: http://p.example/v1
        allowPlainHttp: true
        headers: {X-A: a}
        models:
          m1: &m {contextWindow: 8, maxTokens: 4}
          m2: *m
        ---
        kind: ProviderConfiguration
        id: p
        headers: {X-B: b}
        """,
    "over/30-p.yaml": """
        kind: Provider
        id: p
        overlay: true
        maxTokens: 5
        models:
          m1: {maxTokens: 9}
          m3: {maxTokens: 3}
        """,
}


def test_sources_read_back_as_compiled(tmp_path: Path) -> None:
    root = write_files(tmp_path, TREE)
    compiled = compile_paths([root / "base", root / "over"])
    assert [d.message for d in compiled.diagnostics if d.severity.value == "error"] == []
    out = tmp_path / "a.json"
    out.write_text(
        artifact_text(compiled.calls, layers=compiled.layer_roots, files=compiled.hashes)
    )
    read = read_artifact(str(out))
    assert len(read) == len(compiled.calls) == 3
    for written, back in zip(compiled.calls, read, strict=True):
        assert dict(back.origins) == dict(written.origins)
        assert list(back.origins) == sorted(back.origins, key=lambda p: [str(s) for s in p])
    provider = read[1]
    assert provider.origins["models", "m1", "maxTokens"].overlay  # from the second layer
    assert provider.origins["models", "m2", "maxTokens"].place.line == 8  # as &m wrote it
    assert ("allowPlainHttp",) in provider.origins


def test_a_source_at_a_path_the_call_does_not_give_is_kept_in_full(tmp_path: Path) -> None:
    """``overlay: false`` is not in the registration: whatever the call leaves out is
    written with its path."""
    text = (
        "kind: Provider\nid: q\noverlay: false\napi: openai-completions\n"
        "baseUrl: https://q.example/v1\nmodels:\n  m: {}\n"
    )
    root = write_files(tmp_path, {"t/q.yaml": text})
    compiled = compile_paths(root / "t")
    (call,) = compiled.calls
    out = tmp_path / "a.json"
    out.write_text(artifact_text(compiled.calls, layers=compiled.layer_roots, files=()))
    (back,) = read_artifact(str(out))
    assert dict(back.origins) == dict(call.origins)
    assert back.origins["overlay",].place.line == 3
    assert '"overlay"' in out.read_text().rpartition('"sources"')[2]


def test_fields_without_a_source_and_every_shape_of_payload_round_trip() -> None:
    """A field may have no source (inside an alias of a big anchor, placed at the alias);
    a payload may hold lists and empty mappings; origins change along the way."""
    payload = {"headers": {"X-A": "a"}, "models": {"m": {}, "n": {"x": [1, [2, {"y": 3}]]}}}
    rows: dict[JsonPath, OriginRow] = {
        (): ("a.yaml", 1, 1, 0, "root", False),
        ("kind",): ("a.yaml", 1, 7, 0, "root", False),
        ("id",): ("a.yaml", 2, 5, 0, "root", False),
        ("headers", "X-A"): ("b.yaml", 40, 9, 1, "over", True),
        ("models", "n", "x", 1, 1, "y"): ("a.yaml", 12, 3, 0, "root", False),
        ("overlay",): ("b.yaml", 3, 10, 1, "over", True),
    }
    call = Call(Op.REGISTER_PROVIDER, "p", payload, Origins(rows), False)
    numbers: dict[tuple[str, int, bool], int] = {}
    line = _sources.encode(call, numbers)
    assert line.count("-") == len(_sources.expected(call)) - 5  # all but five implied
    table = tuple((f, layer, ["root", "over"][layer], o) for (f, layer, o) in numbers)
    back = _sources.decode(json.loads(json.dumps(line)), call, table)
    assert back == rows
    assert list(back) == sorted(rows, key=_sources.order)
