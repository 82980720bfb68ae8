"""Calls: entities in call order, payloads as Flue receives them, every field's origin."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.generate import generate
from flue_decl import Call, Op
from flue_decl._domain import Origin
from flue_decl.compiler._calls import compile_entities, literal_secrets
from flue_decl.compiler._pipeline import compile_paths
from tests.unit.compiler.stages import entities

CONFIGURE = "kind: ProviderConfiguration\nid: openai\nbaseUrl: https://proxy.example/v1\n"
REGISTER = (
    "kind: Provider\nid: p\napi: acme-rpc\nbaseUrl: https://p.example\n"
    "contextWindow: 8192.0\napiKey: '{{ env.P_KEY }}'\n"
)
API = "kind: ApiProvider\napi: acme-rpc\nhandler: acme.mod:Rpc\n"


def test_payloads_copy_only_what_javascript_reads_differently() -> None:
    """An integral float becomes an int in a copy (the entity keeps what its file says);
    what holds none is the entity's own object, not a copy of it."""
    text = (
        "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example\n"
        "headers: {X-A: b}\nmodels:\n  m: {maxTokens: 512.0, contextWindow: 0.5}\n"
        "  n: {maxTokens: 7}\n"
    )
    (entity,) = entities(text)
    (call,) = compile_entities([entity], ["d"])
    models = call.payload["models"]
    assert models == {"m": {"maxTokens": 512, "contextWindow": 0.5}, "n": {"maxTokens": 7}}
    assert type(models["m"]["maxTokens"]) is int
    assert type(entity.data["models"]["m"]["maxTokens"]) is float
    assert models is not entity.data["models"]
    assert models["m"] is not entity.data["models"]["m"]
    assert models["n"] is entity.data["models"]["n"]
    assert call.payload["headers"] is entity.data["headers"]


def test_calls_come_in_the_order_of_the_kinds_table_then_document_order() -> None:
    calls = compile_entities(entities(CONFIGURE, REGISTER, API), ["providers.d"])
    assert [(c.op, c.target) for c in calls] == [
        (Op.REGISTER_API_PROVIDER, "acme-rpc"),
        (Op.REGISTER_PROVIDER, "p"),
        (Op.CONFIGURE_PROVIDER, "openai"),
    ]


def test_payloads_leave_out_kind_and_identity_and_numbers_are_javascript_numbers() -> None:
    api, provider, configure = compile_entities(entities(API, REGISTER, CONFIGURE), ["d"])
    assert api.payload == {"handler": "acme.mod:Rpc"}
    assert provider.payload["contextWindow"] == 8192
    assert isinstance(provider.payload["contextWindow"], int)
    assert "kind" not in configure.payload
    assert "id" not in configure.payload


def test_every_field_keeps_its_place_and_layer_root() -> None:
    (call,) = compile_entities(entities(REGISTER), ["providers.d"])
    origin = call.origins[("baseUrl",)]
    assert (origin.place.file, origin.place.line, origin.place.column) == ("f0.yaml", 4, 10)
    assert (origin.layer, origin.layer_root, origin.overlay) == (0, "providers.d", False)


def test_the_replay_shape_round_trips_and_masks_keys_unless_asked() -> None:
    calls = compile_entities(entities(API, REGISTER.replace("'{{ env.P_KEY }}'", "k")), ["d"])
    for call in calls:
        shown = call.to_replay(show_secrets=True)
        assert Call.from_replay(shown, {}) == Call(call.op, call.target, call.payload, {})
    assert calls[1].to_replay()["registration"]["apiKey"] == "***"


def test_literal_credentials_are_what_an_artifact_refuses() -> None:
    calls = compile_entities(entities(REGISTER.replace("'{{ env.P_KEY }}'", "k")), ["d"])
    ((diag),) = literal_secrets(calls)
    assert (diag.code, diag.line) == ("literal-secret", 6)
    assert literal_secrets(compile_entities(entities(REGISTER), ["d"])) == []


def test_a_key_written_into_a_template_is_a_literal_secret(tmp_path: Path) -> None:
    from flue_decl import compile_paths

    (tmp_path / "a.yaml").write_text(
        "kind: ProviderConfiguration\nid: openai\n"
        "apiKey: \"{{ env.TOK | default('sk-proj-Zx8Kq2Lw9Vb4Nm7Tr1Yp5Hd3') }}\"\n"
        "headers:\n  X-Team: \"{{ 'search' }}\"\n"
    )
    compilation = compile_paths([str(tmp_path)])
    assert [(d.code, d.line) for d in compilation.diagnostics] == [("literal-secret", 3)]
    assert [(d.code, d.line) for d in literal_secrets(compilation.calls)] == [("literal-secret", 3)]


def test_origins_read_from_many_threads_at_once_are_each_calls_own(tmp_path: Path) -> None:
    """A call's origin rows are made when read, and only the last call's are kept: readers
    in several threads, each going through other calls, still see each call's own."""
    generate(tmp_path, 30)
    compiled = compile_paths(tmp_path / "providers.d")
    expected = [sorted((p, origin_row(o)) for p, o in c.origins.items()) for c in compiled.calls]
    start = threading.Barrier(4)

    def read(turn: int) -> list[Any]:
        start.wait()
        numbered = list(enumerate(compiled.calls))
        order = numbered[turn * 7 :] + numbered[: turn * 7]  # each thread starts elsewhere
        found = {i: sorted((p, call.origins[p]) for p in call.origins) for i, call in order}
        return [found[i] for i in range(len(compiled.calls))]

    with ThreadPoolExecutor(4) as pool:
        for found in pool.map(read, range(4)):
            assert [[(p, origin_row(o)) for p, o in call] for call in found] == expected


def test_a_thread_reading_other_calls_origins_does_not_evict_this_threads(
    tmp_path: Path,
) -> None:
    """Each thread keeps the rows it read last: two threads going through different big
    calls at once would otherwise remake every row on every read."""
    from flue_decl.compiler import _calls

    generate(tmp_path, 3)
    first, second, *_ = compile_paths(tmp_path / "providers.d").calls
    rows = _calls._rows(first.origins._rows)  # type: ignore[attr-defined]
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: list(second.origins.items())).result()
    assert _calls._rows(first.origins._rows) is rows  # type: ignore[attr-defined]
    assert _calls._rows(second.origins._rows) is not rows  # type: ignore[attr-defined]


def origin_row(origin: Origin) -> tuple[Any, ...]:
    place = origin.place
    return (place.file, place.line, place.column, origin.layer, origin.layer_root, origin.overlay)


def test_reading_origins_keeps_no_compiled_tree_alive(tmp_path: Path) -> None:
    """A thread keeps the rows it read last, but not the call they are of (nor through it
    the tree's entities and file texts)."""
    import gc
    import weakref

    generate(tmp_path, 3)
    compiled = compile_paths(tmp_path / "providers.d")
    rows = compiled.calls[0].origins._rows  # type: ignore[attr-defined]
    assert dict(compiled.calls[0].origins)
    gone = weakref.ref(rows)
    del compiled, rows
    gc.collect()
    assert gone() is None


def test_nothing_flue_decl_does_with_compiled_calls_changes_their_payloads(
    tmp_path: Path,
) -> None:
    """Payloads share objects with the documents and entities: rendering, registering,
    writing the artifact, resolving, explaining, listing and diffing all copy what they
    change."""
    import copy

    from flue_decl.runtime import artifact_text, build_registry, render_calls
    from flue_decl.views import diff_calls, explain, listing, resolve_result, unrendered_registry

    generate(tmp_path, 12)
    compiled = compile_paths(tmp_path / "providers.d")
    before = copy.deepcopy([d.data for d in compiled.documents])
    calls = compiled.calls
    env = {f"P{i}_URL": f"https://env{i}.example/v1" for i in range(12)} | {"Q_KEY": "k"}
    render_calls(calls, env)
    artifact_text(calls, layers=compiled.layer_roots, files=compiled.hashes)
    registry = build_registry(calls, env=env, import_handlers=False)
    for call in calls:
        for model in call.payload.get("models") or {}:
            spec = f"{call.target}/{model}"
            resolve_result(registry, spec, show_secrets=True)
            explain(registry, spec)
    listing(unrendered_registry(calls), env=env, with_catalog=True)
    diff_calls(calls, calls)
    assert [d.data for d in compiled.documents] == before
