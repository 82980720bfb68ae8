"""Compiled artifacts: what CI builds and services start from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

from flue_decl import (
    ConfigError,
    InputError,
    Registry,
    TemplateError,
    compile_paths,
    load_artifact,
    load_registry,
)
from flue_decl._domain import Call, Op
from flue_decl.compiler import literal_secrets
from flue_decl.runtime import artifact_text, build_registry, read_artifact
from flue_decl.runtime._decode import GENERATOR
from flue_decl.views import resolve_result
from tests.conformance.generate import Tree, trees
from tests.conformance.test_conformance import write_tree
from tests.helpers import REPO, examples, run_cli, write_files

ENV = {"ANTHROPIC_API_KEY": "a-key", "OPENROUTER_API_KEY": "o-key", "ACME_API_KEY": "k-key"}
SPECS = [
    "ollama/llama3.1:8b",
    "ollama/x",
    "anthropic/claude-sonnet-4-5",
    "openai/gpt-4o",
    "openrouter-team/anthropic/claude-sonnet-4",
    "acme/m",
    "cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "nope/x",
]


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    out = tmp_path / "registry.json"
    assert run_cli("compile", "-o", str(out)).returncode == 0
    return out


def test_service_start_from_an_artifact_imports_no_compiler(artifact: Path) -> None:
    probe = (
        "import sys, flue_decl\n"
        f"r = flue_decl.load_artifact({str(artifact)!r}, env={ENV!r}, import_handlers=False)\n"
        "print(r.resolve_model('ollama/llama3.1:8b').context_window)\n"
        "heavy = ('jsonschema', 'referencing', 'httpx', 'jinja2', 'yaml',\n"
        "         'flue_decl.compiler', 'flue_decl._load', 'flue_decl.cli',\n"
        "         'flue_decl._discover')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy\n"
        "             or any(m == h or m.startswith(h + '.') for h in heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=REPO,
    ).stdout.split("\n")
    assert out[:2] == ["131072", "[]"]


def test_a_registry_of_https_providers_loads_without_reading_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = write_files(
        tmp_path / "providers.d",
        {
            "acme.yaml": "kind: Provider\nid: acme\napi: openai-completions\n"
            "baseUrl: https://acme.example/v1\napiKey: '{{ env.ACME_KEY }}'\nmodels: {m: {}}\n"
        },
    )
    out = tmp_path / "registry.json"
    assert run_cli("compile", str(tree), "-o", str(out)).returncode == 0
    from flue_decl.runtime import _render

    def unread() -> None:
        raise AssertionError("the catalog was read for a rule no provider needs")

    monkeypatch.setattr(_render, "builtin_catalog", unread)
    registry = load_artifact(out, env={"ACME_KEY": "k"}, import_handlers=False)
    assert registry.resolve_model("acme/m").base_url == "https://acme.example/v1"


def test_artifact_round_trip_gives_the_same_registry(
    artifact: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO / "examples"))
    monkeypatch.chdir(REPO)  # the artifact was compiled from the relative path providers.d
    from_yaml = load_registry(["providers.d"], env=ENV, handler_modules=["acme_llm"])
    from_artifact = load_artifact(artifact, env=ENV, handler_modules=["acme_llm"])
    for spec in SPECS:
        assert resolve_result(from_artifact, spec, show_secrets=True) == resolve_result(
            from_yaml, spec, show_secrets=True
        )
    for op in ("registerProvider", "configureProvider"):
        for provider in ("ollama", "anthropic"):
            assert from_artifact.origins(op, provider) == from_yaml.origins(op, provider)
    assert from_artifact.api_providers()["acme-rpc"].__name__ == "AcmeRpc"


@settings(
    max_examples=examples(60),
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@given(trees())
def test_round_trip_on_generated_trees(tree: Tree) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_tree(tree, Path(tmp))
        compilation = compile_paths(paths)
        assume(compilation.ok and not literal_secrets(compilation.calls))
        out = Path(tmp) / "registry.json"
        out.write_text(
            artifact_text(
                compilation.calls, layers=compilation.layer_roots, files=compilation.hashes
            )
        )
        for written, back in zip(compilation.calls, read_artifact(str(out)), strict=True):
            assert dict(back.origins) == dict(written.origins)  # every source, as compiled
        from_artifact = load_artifact(out, env=tree.env, import_handlers=False)
        from_yaml = load_registry(paths, env=tree.env, import_handlers=False)
        # Payloads kept as given (copied, not packed as JSON text: ``runtime._stored``).
        from_code = build_registry(compilation.calls, env=tree.env, import_handlers=False)
        for spec in tree.specs:
            expected = resolve_result(from_code, spec, show_secrets=True)
            assert resolve_result(from_artifact, spec, show_secrets=True) == expected
            assert resolve_result(from_yaml, spec, show_secrets=True) == expected
        for provider in from_code.registered_providers():
            assert from_artifact.registration(provider) == from_code.registration(provider)
        for provider in from_code.configured_providers():
            assert from_artifact.settings(provider) == from_code.settings(provider)
        # An artifact of another flue-decl is read call by call (``runtime._start``): the
        # same registry, and without the environment the same problems at the same places.
        older = Path(tmp) / "older.json"
        generator = f'"generator": "{GENERATOR}"'
        older.write_text(_resign(out.read_text().replace(generator, '"generator": "x 0"', 1)))
        from_older = load_artifact(older, env=tree.env, import_handlers=False)
        for spec in tree.specs:
            expected = resolve_result(from_code, spec, show_secrets=True)
            assert resolve_result(from_older, spec, show_secrets=True) == expected
        for provider in from_code.registered_providers():
            assert from_older.registration(provider) == from_code.registration(provider)
        assert (
            _problems(lambda: load_artifact(out, env={}, import_handlers=False))
            == _problems(lambda: load_artifact(older, env={}, import_handlers=False))
            == _problems(lambda: build_registry(compilation.calls, env={}, import_handlers=False))
        )


def _problems(load: Callable[[], object]) -> list[tuple[Any, ...]]:
    try:
        load()
    except ConfigError as error:
        return [(d.code, d.message, d.file, d.line, d.column) for d in error.diagnostics]
    return []


CUSTOM_SCHEME = {
    "10-api.yaml": "kind: ApiProvider\napi: ws-rpc\nhandler: json:dumps\n",
    "20-live.yaml": (
        "kind: Provider\nid: live\napi: ws-rpc\nbaseUrl: wss://live.example/v1\n"
        "models:\n  m: {}\n"
    ),
}


@pytest.mark.parametrize(
    ("spelled", "api"), [("\\u0077s-rpc", "ws-rpc"), ("ws\\/rpc", "ws/rpc")]
)
def test_an_api_provider_spelled_with_escapes_is_still_one(
    tmp_path: Path, spelled: str, api: str
) -> None:
    """Which providers speak a custom protocol (and may use its URL schemes) is found by
    searching the artifact's lines before decoding them: a call whose op or api is spelled
    with JSON escapes (a re-checksummed artifact) is found all the same."""
    write_files(tmp_path / "tree", CUSTOM_SCHEME)
    out = tmp_path / "a.json"
    assert run_cli("compile", str(tmp_path / "tree"), "-o", str(out)).returncode == 0
    text = out.read_text()
    escaped = text.replace('"registerApiProvider"', '"\\u0072egisterApiProvider"')
    escaped = escaped.replace('"ws-rpc"', f'"{spelled}"')
    assert escaped.count(spelled) == 2
    assert "\\u0072egisterApiProvider" in escaped
    forged = tmp_path / "forged.json"
    forged.write_text(_recheck(escaped))
    for path, name in ((out, "ws-rpc"), (forged, api)):
        registry = load_artifact(path, env={}, import_handlers=False)
        assert registry.resolve_model("live/m").base_url == "wss://live.example/v1"
        assert registry.api_providers() == {name: "json:dumps"}


def test_calls_split_across_lines_are_refused_when_read(tmp_path: Path) -> None:
    """A registry keeps each call's line and decodes it alone when its provider is first
    read (not at load: see ``runtime._start``): lines that decode only when joined (a call
    moved half onto the line before, re-checksummed) are refused then, as artifact-invalid,
    never read as another call."""
    provider = "kind: Provider\nid: {0}\napi: openai-completions\nbaseUrl: https://{0}.example\n"
    write_files(tmp_path / "tree", {f"{p}.yaml": provider.format(p) for p in "ab"})
    out = tmp_path / "a.json"
    assert run_cli("compile", str(tmp_path / "tree"), "-o", str(out)).returncode == 0
    text = out.read_text()
    # Line one holds the first call and the second's start, line two its rest; joined
    # with a comma they are both calls.
    joint = '},\n    {"api":"openai-completions","'
    assert text.count(joint) == 1
    forged = text.replace(joint, '},{"api":"openai-completions",\n    "')
    block = forged[forged.index('"calls": [') + len('"calls": [') : forged.index('"sources"')]
    lines = [line.strip().removesuffix(",") for line in block.strip().splitlines()[:-1]]
    assert len(lines) == 2
    assert len(json.loads("[" + ",".join(lines) + "]")) == 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])
    (tmp_path / "forged.json").write_text(_recheck(forged))
    registry = load_artifact(tmp_path / "forged.json", env={}, import_handlers=False)
    for target in "ab":
        with pytest.raises(InputError) as info:
            registry.resolve_model(f"{target}/m")
        assert info.value.diagnostics[0].code == "artifact-invalid"
        assert f"`{target}`" in info.value.diagnostics[0].message


def test_allow_plain_http_on_an_api_provider_exempts_no_provider() -> None:
    """``allowPlainHttp`` counts on a provider's registration or configuration: an
    ApiProvider whose api is named like the provider (a hand-made call) does not let the
    provider's key travel in clear."""
    calls = (
        Call(Op.REGISTER_API_PROVIDER, "p", {"handler": "json:dumps"}, {}, True),
        Call(
            Op.REGISTER_PROVIDER,
            "p",
            {"api": "openai-completions", "baseUrl": "http://10.9.9.9/v1", "apiKey": "k-1"},
            {},
        ),
    )
    with pytest.raises(TemplateError) as info:
        build_registry(calls, env={}, import_handlers=False)
    assert [d.code for d in info.value.diagnostics] == ["insecure-key-transport"]


@pytest.mark.parametrize("damage", ["edit", "version", "truncate", "format", "not-json"])
def test_a_damaged_artifact_is_refused(artifact: Path, damage: str) -> None:
    text = artifact.read_text()
    data = json.loads(text)
    if damage == "edit":
        data["calls"][1]["baseUrl"] = "https://evil.example"
        text = json.dumps(data)
    elif damage == "version":
        data["version"] = 1  # the format before compact sources
        text = json.dumps(data)
    elif damage == "format":
        data["format"] = "something-else"
        text = json.dumps(data)
    elif damage == "truncate":
        text = text[: len(text) // 2]
    else:
        text = "kind: Provider\n"
    artifact.write_text(text)
    with pytest.raises(InputError) as info:
        load_artifact(artifact, env=ENV, handler_modules=["acme_llm"])
    assert [d.code for d in info.value.diagnostics] == ["artifact-invalid"]
    assert info.value.diagnostics[0].file == str(artifact)


def _resign(text: str) -> str:
    """The artifact with its checksum recomputed, as a careful forger would."""
    import hashlib
    import re

    zeroed = re.sub(
        r'"integrity": "sha256:[0-9a-f]{64}"',
        '"integrity": "sha256:' + "0" * 64 + '"',
        text,
        count=1,
    )
    digest = hashlib.sha256(zeroed.encode()).hexdigest()
    return zeroed.replace("sha256:" + "0" * 64, f"sha256:{digest}", 1)


@pytest.mark.parametrize(
    "damage",
    [
        "index out of range",
        "not a list",
        "one call short",
        "bad json",
        "no sources",
        "text for a line",
        "entries missing",
        "a source without a path",
    ],
)
def test_malformed_sources_are_refused_cleanly(artifact: Path, damage: str) -> None:
    # Sources are decoded on first use: the error must still be artifact-invalid, even
    # when it surfaces while a missing variable is being reported.
    text = artifact.read_text()
    head, _, tail = text.rpartition('\n  "sources": ')
    sources = json.loads(tail.rstrip().removesuffix("}"))
    if damage == "index out of range":
        sources[2] = [[99, 1, 1]]
    elif damage == "not a list":
        sources[2] = "x"
    elif damage == "one call short":
        sources.pop()
    elif damage == "text for a line":
        sources[2] = [[0], "x", 1]
    elif damage == "entries missing":
        sources[2] = [[0]]
    elif damage == "a source without a path":
        sources[2] = [*sources[2], [0, 1, 1]]
    if damage == "bad json":
        tail = "[[[0, 1\n}\n"
    elif damage == "no sources":
        tail = ""
    else:
        tail = json.dumps(sources) + "\n}\n"
    text = head + ('\n  "sources": ' + tail if tail else "\n}\n")
    artifact.write_text(_resign(text))
    with pytest.raises(InputError) as info:
        load_artifact(
            artifact,
            env={"ANTHROPIC_API_KEY": "a", "ACME_API_KEY": "b"},
            handler_modules=["acme_llm"],
        )
    assert [d.code for d in info.value.diagnostics] == ["artifact-invalid"]
    assert info.value.diagnostics[0].file == str(artifact)


def test_missing_environment_at_start_names_the_yaml_places(artifact: Path) -> None:
    with pytest.raises(TemplateError) as info:
        load_artifact(artifact, env={"ANTHROPIC_API_KEY": "a"}, handler_modules=["acme_llm"])
    found = {(d.message.split("`")[1], d.file, d.line) for d in info.value.diagnostics}
    assert found == {
        ("OPENROUTER_API_KEY", "providers.d/30-openrouter.yaml", 10),
        ("ACME_API_KEY", "providers.d/50-acme-rpc.yaml", 14),
    }


def test_loading_leaves_the_garbage_collector_as_it_found_it(artifact: Path) -> None:
    # Loading pauses the cyclic collector for its one pass; the caller's setting survives
    # success and failure alike.
    import gc

    assert gc.isenabled()
    load_artifact(artifact, env=ENV, import_handlers=False)
    assert gc.isenabled()
    with pytest.raises(TemplateError):
        load_artifact(artifact, env={}, handler_modules=["acme_llm"])
    assert gc.isenabled()
    gc.disable()
    try:
        load_artifact(artifact, env=ENV, import_handlers=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def _ask_for_origins(
    registry: Registry, barrier: Any, found: list[int], errors: list[BaseException]
) -> None:
    try:
        barrier.wait()
        origins = registry.origins("registerProvider", "ollama")
        found.append(origins[("models", "llama3.1:8b", "contextWindow")].place.line)
    except BaseException as exc:
        errors.append(exc)


def test_origins_asked_for_from_many_threads_at_once_all_arrive(artifact: Path) -> None:
    # The sources are decoded on first use; threads racing to be first must all get them.
    import threading

    for _ in range(20):
        registry = load_artifact(artifact, env=ENV, import_handlers=False)
        barrier = threading.Barrier(8)
        found: list[int] = []
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_ask_for_origins, args=(registry, barrier, found, errors))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert found == [18] * 8


SIGN_KEY = "signing-key-0123456789"


def _recheck(text: str) -> str:
    """``text`` with its checksum recomputed, as a forger with the file would do."""
    import hashlib
    import re

    zeroed = re.sub(
        r'"integrity": "sha256:[0-9a-f]{64}"',
        '"integrity": "sha256:' + "0" * 64 + '"',
        text,
        count=1,
    )
    zeroed = re.sub(
        r'"signature": "hmac-sha256:[0-9a-f]{64}"',
        '"signature": "hmac-sha256:' + "0" * 64 + '"',
        zeroed,
        count=1,
    )
    digest = hashlib.sha256(zeroed.encode()).hexdigest()
    return re.sub(
        r'"integrity": "sha256:0{64}"', f'"integrity": "sha256:{digest}"', zeroed, count=1
    )


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    out = tmp_path / "signed.json"
    result = run_cli(
        "compile", "-o", str(out), "--sign-key-env", "SIGN_KEY", env={"SIGN_KEY": SIGN_KEY}
    )
    assert result.returncode == 0, result.stderr
    assert SIGN_KEY not in out.read_text() + result.stdout + result.stderr
    return out


def test_a_signed_artifact_loads_with_its_key(
    signed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = load_artifact(signed, env=ENV, import_handlers=False, verify_key=SIGN_KEY)
    assert registry.resolve_model("ollama/llama3.1:8b").id == "llama3.1:8b"
    load_artifact(signed, env=ENV, import_handlers=False)  # without a key: integrity only
    monkeypatch.setenv("FLUE_DECL_ARTIFACT_KEY", SIGN_KEY)
    load_artifact(signed, env=ENV, import_handlers=False)


@pytest.mark.parametrize("forgery", ["unsigned", "other-key", "edited", "edited-unsigned"])
def test_a_forged_artifact_is_refused(
    signed: Path, artifact: Path, tmp_path: Path, forgery: str
) -> None:
    text = signed.read_text()
    forged = tmp_path / "forged.json"
    if forgery == "unsigned":
        forged.write_text(artifact.read_text())
    elif forgery == "other-key":
        import re

        from flue_decl.runtime._decode import signature

        digest = re.findall(r'"integrity": "sha256:([0-9a-f]{64})"', text)[0]
        mine = re.findall(r'"signature": "(hmac-sha256:[0-9a-f]{64})"', text)[0]
        forged.write_text(text.replace(mine, "hmac-sha256:" + signature(b"guessed", digest)))
    elif forgery == "edited":  # a handler that runs a program, with a fresh checksum
        forged.write_text(_recheck(text.replace("acme_llm.protocols:AcmeRpc", "os:system")))
    else:  # ... and the signature line taken out
        edited = text.replace("acme_llm.protocols:AcmeRpc", "os:system")
        lines = [line for line in edited.splitlines(keepends=True) if '"signature"' not in line]
        forged.write_text(_recheck("".join(lines)))
    load_artifact(forged, env=ENV, import_handlers=False)  # the checksum alone is satisfied
    with pytest.raises(InputError) as info:
        load_artifact(forged, env=ENV, import_handlers=False, verify_key=SIGN_KEY)
    (diag,) = info.value.diagnostics
    assert diag.code == "artifact-invalid"
    assert ("not signed" in diag.message) is forgery.endswith("unsigned")
    assert SIGN_KEY not in str(info.value)


def test_signing_needs_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, artifact: Path
) -> None:
    result = run_cli("compile", "-o", str(tmp_path / "x.json"), "--sign-key-env", "NOPE")
    assert result.returncode == 2
    assert "NOPE is not set" in result.stderr
    assert not (tmp_path / "x.json").exists()
    monkeypatch.setenv("FLUE_DECL_ARTIFACT_KEY", "")
    with pytest.raises(InputError, match="set but empty"):
        load_artifact(artifact, env=ENV, import_handlers=False)


def test_odd_verification_keys_are_refused_cleanly(signed: Path) -> None:
    with pytest.raises(InputError, match="key is empty"):
        load_artifact(signed, env=ENV, import_handlers=False, verify_key="")
    with pytest.raises(TypeError, match="str or bytes"):
        load_artifact(signed, env=ENV, import_handlers=False, verify_key=5)  # type: ignore[arg-type]
    load_artifact(signed, env=ENV, import_handlers=False, verify_key=SIGN_KEY.encode())


def test_a_key_that_is_not_utf8_signs_and_verifies(tmp_path: Path) -> None:
    import os

    out = tmp_path / "a.json"
    key = os.fsdecode(b"k\xffey-0123")  # as the environment holds such bytes
    result = run_cli("compile", "-o", str(out), "--sign-key-env", "SK", env={"SK": key})
    assert result.returncode == 0, result.stderr
    load_artifact(out, env=ENV, import_handlers=False, verify_key=b"k\xffey-0123")


@pytest.mark.parametrize(
    "reshape",
    ["calls on one line", "a call over two lines", "trailing text", "no newline before ]"],
)
def test_an_artifact_not_one_item_per_line_is_refused_cleanly(
    artifact: Path, reshape: str
) -> None:
    # Re-checksummed as a careful editor would: the layout the reader splits on is checked.
    text = artifact.read_text()
    head, _, rest = text.partition('\n  "calls": [\n')
    calls, _, tail = rest.partition("\n  ],\n")
    items = [line.strip().removesuffix(",") for line in calls.split("\n")]
    if reshape == "calls on one line":
        calls_text = "[" + ",".join(items) + "]"
    elif reshape == "a call over two lines":
        first = json.dumps(json.loads(items[0]), indent=1)
        calls_text = "[\n    " + ",\n    ".join([first, *items[1:]]) + "\n  ]"
    elif reshape == "no newline before ]":
        calls_text = "[\n    " + ",\n    ".join(items) + "]"
    else:
        calls_text = "[\n    " + ",\n    ".join(items) + "\n  ]"
        tail += "garbage\n"
    artifact.write_text(_resign(head + '\n  "calls": ' + calls_text + ",\n" + tail))
    with pytest.raises(InputError) as info:
        load_artifact(artifact, env=ENV, import_handlers=False)
    assert [d.code for d in info.value.diagnostics] == ["artifact-invalid"]


@pytest.mark.parametrize("forgery", ["inputs null", "a call nested past the stack"])
def test_odd_shapes_in_a_re_checksummed_artifact_are_artifact_invalid(
    artifact: Path, forgery: str
) -> None:
    text = artifact.read_text()
    if forgery == "inputs null":
        start = text.index('"inputs": {')
        end = text.index('\n  "origins"')
        text = text[:start] + '"inputs": null,' + text[end:]
    else:
        head, _, rest = text.partition('\n  "calls": [\n    ')
        text = head + '\n  "calls": [\n    ' + "[" * 100_000 + "]" * 100_000 + ",\n    " + rest
        head, _, rest = text.partition('\n  "sources": [\n    ')
        text = head + '\n  "sources": [\n    [],\n    ' + rest
    artifact.write_text(_resign(text))
    with pytest.raises(InputError) as info:
        load_artifact(artifact, env=ENV, import_handlers=False)
    assert [d.code for d in info.value.diagnostics] == ["artifact-invalid"]


def test_the_command_writes_the_artifact_the_library_makes(tmp_path: Path) -> None:
    """``compile`` writes the artifact in pieces (to a file, or to stdout): the same bytes
    as ``artifact_text``, escapes across the pieces included."""
    write_files(
        tmp_path,
        {
            "providers.d/10-odd.yaml": (
                "kind: Provider\nid: odd\napi: openai-completions\n"
                "baseUrl: https://odd.example/v1\n"
                "headers: {X-Note: '##[error] é \u2028 \U0001f600'}\n"
                "models:\n  '##[group]m': {maxTokens: 7}\n"
            ),
            "providers.d/20-more.yaml": "kind: ProviderConfiguration\nid: openai\n",
        },
    )
    compilation = compile_paths(str(tmp_path / "providers.d"))
    assert compilation.ok, compilation.diagnostics
    expected = artifact_text(
        compilation.calls, layers=compilation.layer_roots, files=compilation.hashes
    )
    assert "##\\u005b" in expected
    assert "##[" not in expected
    out = tmp_path / "out.json"
    tree = str(tmp_path / "providers.d")
    result = run_cli("compile", tree, "-o", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8") == expected
    printed = run_cli("compile", tree, cwd=tmp_path)
    assert printed.stdout == expected
    assert load_artifact(out, env={}, import_handlers=False).resolve_model("odd/##[group]m")


def test_compile_to_stdout_is_utf8_whatever_its_encoding(tmp_path: Path) -> None:
    """What ``compile`` prints is the artifact's bytes, also to a stdout whose encoding
    cannot write them (it loaded as damaged before)."""
    write_files(
        tmp_path,
        {
            "providers.d/a.yaml": "kind: Provider\nid: p\napi: openai-completions\n"
            "baseUrl: https://p.example/v1\nheaders: {X-Note: '€ \U0001f600'}\n"
        },
    )
    done = subprocess.run(
        [sys.executable, "-m", "flue_decl", "compile", "--isolated", "providers.d"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONIOENCODING": "latin-1"},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (tmp_path / "out.json").write_bytes(done.stdout)
    registry = load_artifact(tmp_path / "out.json", env={}, import_handlers=False)
    registration = registry.registration("p")
    assert registration is not None
    assert registration["headers"] == {"X-Note": "€ \U0001f600"}


def test_an_interrupted_compile_prints_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the artifact is made leaves stdout empty (exit 130): not a truncated
    artifact in `compile > registry.json`."""
    from flue_decl.runtime import _artifact

    provider = "kind: Provider\nid: p{0}\napi: openai-completions\nbaseUrl: https://p{0}.example\n"
    write_files(tmp_path, {f"providers.d/{i}.yaml": provider.format(i) for i in range(5)})
    made = 0
    encoded = _artifact._encoded

    def interrupted(call: Call) -> Any:
        nonlocal made
        made += 1
        if made > 5 + 2:
            raise KeyboardInterrupt  # in the second pass, while lines are written
        return encoded(call)

    monkeypatch.setattr(_artifact, "_encoded", interrupted)
    result = run_cli("compile", "providers.d", cwd=tmp_path)
    assert result.returncode == 130
    assert result.stdout == ""


def test_a_value_spelled_like_a_placeholder_is_written_as_itself(tmp_path: Path) -> None:
    """The long lists are put in place of placeholders in the header's own text only: a
    call made in code whose value is spelled like one is written (and loads) as itself."""
    import dataclasses

    write_files(
        tmp_path,
        {
            "providers.d/a.yaml": "kind: Provider\nid: p\napi: openai-completions\n"
            "baseUrl: https://p.example/v1\nheaders: {X-Note: x}\n"
        },
    )
    compiled = compile_paths(str(tmp_path / "providers.d"))
    (call,) = compiled.calls
    odd = {**call.payload, "headers": {"X-Note": "\u0000sources\u0000", "X-B": "\u0000calls\u0000"}}
    text = artifact_text(
        [dataclasses.replace(call, payload=odd)],
        layers=compiled.layer_roots,
        files=compiled.hashes,
    )
    (tmp_path / "a.json").write_text(text, encoding="utf-8")
    registration = load_artifact(tmp_path / "a.json", env={}, import_handlers=False).registration(
        "p"
    )
    assert registration is not None
    assert registration["headers"] == odd["headers"]


def test_compile_prints_to_a_text_only_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``main`` called with stdout captured in a text stream (no bytes beneath it): the
    artifact is printed as text, not an internal error."""
    import contextlib
    import io

    from flue_decl.cli._main import main

    write_files(
        tmp_path,
        {
            "providers.d/a.yaml": "kind: Provider\nid: p\napi: openai-completions\n"
            "baseUrl: https://p.example/v1\n"
        },
    )
    monkeypatch.chdir(tmp_path)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = main(["compile", "--isolated", "providers.d"])
    assert code == 0
    compilation = compile_paths("providers.d")
    assert captured.getvalue() == artifact_text(
        compilation.calls, layers=compilation.layer_roots, files=compilation.hashes
    )


PLAIN = (
    "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://api.example/v1\n"
    "apiKey: '{{ env.K }}'\n"
)


def _forged(tmp_path: Path, edit: Callable[[str], str]) -> Path:
    """The artifact of PLAIN, edited and checksummed again, as a careful forger would."""
    write_files(tmp_path / "tree", {"p.yaml": PLAIN})
    out = tmp_path / "a.json"
    assert run_cli("compile", str(tmp_path / "tree"), "-o", str(out)).returncode == 0
    text = out.read_text()
    edited = edit(text)
    assert edited != text
    out.write_text(_resign(edited))
    return out


@pytest.mark.parametrize(
    "url", ['"base\\u0055rl":"http://10.0.0.1/v1"', '"baseUrl":"\\u0068ttp://10.0.0.1/v1"']
)
def test_a_url_in_clear_spelled_with_escapes_is_still_found_at_load(
    tmp_path: Path, url: str
) -> None:
    artifact = _forged(tmp_path, lambda t: t.replace('"baseUrl":"https://api.example/v1"', url))
    with pytest.raises(TemplateError) as info:
        load_artifact(artifact, env={"K": "sek-123"}, import_handlers=False)
    assert [d.code for d in info.value.diagnostics] == ["insecure-key-transport"]


@pytest.mark.parametrize(
    ("old", "new"),
    [('[["apiKey"],"{{ env.K }}"]', '[["note"],"{{ env.K }}"]'), ('"apiKey":0', '"apiKey":7')],
)
def test_a_template_whose_slot_was_edited_away_is_refused_when_read(
    tmp_path: Path, old: str, new: str
) -> None:
    artifact = _forged(tmp_path, lambda t: t.replace(old, new))
    registry = load_artifact(artifact, env={"K": "sek-123"}, import_handlers=False)
    with pytest.raises(InputError) as info:
        registry.registration("p")
    assert [d.code for d in info.value.diagnostics] == ["artifact-invalid"]
    assert "sek-123" not in str(info.value)


def test_a_null_base_url_in_a_configuration_hides_nothing_from_the_rule() -> None:
    """None is no value (JavaScript's undefined), for the rule as for resolution: the
    registration's URL in clear is the one in use, and its key goes there."""
    calls = [
        Call(
            Op.REGISTER_PROVIDER,
            "p",
            {"api": "openai-completions", "baseUrl": "http://10.0.0.1/v1", "apiKey": "k"},
            {},
        ),
        Call(Op.CONFIGURE_PROVIDER, "p", {"baseUrl": None, "apiKey": None}, {}),
    ]
    with pytest.raises(TemplateError) as info:
        build_registry(calls, env={}, import_handlers=False)
    assert [d.code for d in info.value.diagnostics] == ["insecure-key-transport"]
