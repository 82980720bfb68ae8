"""`flue-decl emit`: the emitted module, run by node against the real runtime (through
replay-server.mjs), gives the answers flue-decl gives, and its templates render as Python's
do."""

from __future__ import annotations

import itertools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flue_decl import compile_paths
from flue_decl.compiler import module_text
from flue_decl.compiler._emit import _runtime, _template
from flue_decl.runtime import render_calls
from flue_decl.templates import render
from flue_decl.views import resolve_result
from tests.helpers import examples
from tests.unit.templates.test_grammar import ENVS, templates

from .generate import Tree, trees
from .oracle import NODE_DIR, ReplayServer
from .test_conformance import registry_of, write_tree

EXAMPLES = int(os.environ.get("FLUE_DECL_EMIT_EXAMPLES", examples(200)))
REPO = Path(__file__).resolve().parents[2]
_COUNTER = itertools.count()


def _missing_in(error: str) -> set[str]:
    return set(re.findall(r"environment variable (\S+) is not set", error))


def _returned(registry: Any, spec: str) -> dict[str, Any]:
    """flue-decl's answer for ``spec`` as the harness reads it back: the model from the
    runtime, the key from the calls applyProviders returned, where a key the tree set is
    masked (one the runtime finds in the environment is not in the calls)."""
    result = resolve_result(registry, spec, show_secrets=True)
    source = registry.api_key_source(spec)[0] if result["ok"] else None
    if source in ("configureProvider", "registerProvider") and result["apiKey"]:
        result["apiKey"] = "***"
    return result


def check_emitted(tree: Tree, oracle: ReplayServer, workdir: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_tree(tree, Path(tmp))
        compilation = compile_paths(paths, allow_empty=True)
        assert compilation.ok, [str(d) for d in compilation.diagnostics]
        module = workdir / f"m{next(_COUNTER)}.mjs"
        module.write_text(
            module_text(compilation.calls, target="flue-js", files=compilation.hashes)
        )
        rendered, _ = render_calls(compilation.calls, tree.env)
        registry = registry_of(paths, tree.env)
        mine = [_returned(registry, spec) for spec in tree.specs]
        _, problems = render_calls(compilation.calls, {})
    apis = [c.target for c in compilation.calls if c.op == "registerApiProvider"]
    names = [c.payload.get("binding") for c in compilation.calls if "binding" in c.payload]
    case = {
        "kind": "apply",
        "module": str(module),
        "env": tree.env,
        "apis": apis,
        "bindings": {name: name for name in names if isinstance(name, str)},
    }
    answer = oracle.run({**case, "resolve": tree.specs})
    assert "error" not in answer, answer["error"]
    # (a) the calls it applied are flue-decl's calls for this environment, returned with
    # every credential masked as flue-decl masks them (what applyProviders is for: logs)
    assert answer["calls"] == [c.to_replay(show_secrets=False) for c in rendered]
    # (b) every specifier resolves alike: model, key, storeResponses, errors
    for got, want in zip(answer["results"], mine, strict=True):
        assert got == want, f"{want['spec']}: the emitted module and flue-decl disagree"
    # Without any variable: one Error naming every missing one, as flue-decl does.
    missing = {d.message.split("`")[1] for d in problems if d.code == "missing-env"}
    bare = oracle.run({**case, "env": {}, "resolve": []})
    if missing:
        assert _missing_in(bare.get("error", "")) == missing
    else:
        assert "error" not in bare or "environment variable" not in bare["error"]
    module.unlink()


def test_emitted_modules_give_flue_decls_answers(oracle: ReplayServer, workdir: Path) -> None:
    passed = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(trees())
    def run(tree: Tree) -> None:
        nonlocal passed
        check_emitted(tree, oracle, workdir)
        passed += 1

    run()
    assert passed >= EXAMPLES


@settings(
    max_examples=int(os.environ.get("FLUE_DECL_EMIT_TEMPLATE_BATCHES", examples(40))),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(templates(), min_size=1, max_size=25), ENVS)
def test_templates_render_in_javascript_as_in_python(
    oracle: ReplayServer, workdir: Path, sources: list[str], env: dict[str, str]
) -> None:
    module = workdir / f"t{next(_COUNTER)}.mjs"
    functions = ",\n  ".join(_template(source) for source in sources)
    module.write_text(
        _runtime()
        + f"\nconst TEMPLATES = [\n  {functions},\n];\n"
        + "export function renderAll(env, secrets) {\n"
        + "  return TEMPLATES.map((fn) => $render(fn, env, secrets));\n}\n"
    )
    answer = oracle.run({"kind": "render", "module": str(module), "env": env})
    module.unlink()
    for source, got in zip(sources, answer["rendered"], strict=True):
        want = render(source, env)
        expected: dict[str, Any] = (
            {"value": want.value} if want.value is not None else {"missing": list(want.missing)}
        )
        if want.problem is not None:
            expected = {"missing": list(want.missing), "problem": want.problem.message}
        assert got == expected, (source, json.dumps(env))


SECRET_CASES = [
    "{{ secret.db }}",
    "{{ secret['api-key'] | upper }}",
    "{{ secret.missing | default('fallback') }}",
    "{{ secret.missing }}-{{ env.A }}",
    "{{ secret.db if secret.db is defined else env.A }}",
    "Bearer {{ secret['api-key'] ~ env.A | default('!') }}",
    # More unset variables than are looked for in one value (MAX_MISSING), both paths.
    "{{ " + " ~ ".join(f"env.M{i}" for i in range(40)) + " }}",
    "{{ " + " ~ ".join(f"env.M{i} | lower" for i in range(40)) + " }}",
]


def test_secret_lookups_render_in_javascript_as_in_python(
    oracle: ReplayServer, workdir: Path
) -> None:
    from flue_decl.templates import Namespace

    env, secrets = {"A": "a"}, {"db": "pw-1", "api-key": "k-2"}
    module = workdir / "secrets.mjs"
    functions = ",\n  ".join(_template(source) for source in SECRET_CASES)
    module.write_text(
        _runtime()
        + f"\nconst TEMPLATES = [\n  {functions},\n];\n"
        + "export function renderAll(env, secrets) {\n"
        + "  return TEMPLATES.map((fn) => $render(fn, env, secrets));\n}\n"
    )
    answer = oracle.run({"kind": "render", "module": str(module), "env": env, "secrets": secrets})
    for source, got in zip(SECRET_CASES, answer["rendered"], strict=True):
        want = render(source, Namespace(env, secrets))
        expected = (
            {"value": want.value} if want.value is not None else {"missing": list(want.missing)}
        )
        assert got == expected, source


def test_the_javascript_runtime_is_the_typescript_one_with_its_types_stripped() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_emit_runtime", REPO / "scripts" / "build_emit_runtime.py"
    )
    assert spec is not None
    assert spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    committed = (REPO / "flue_decl" / "compiler" / "emit_runtime.js").read_text(encoding="utf-8")
    assert committed == builder.built(), "run `make emit-runtime`"


def test_typescript_modules_compile_strictly_against_flue_types(
    oracle: ReplayServer, workdir: Path
) -> None:
    """tsc --strict --noEmit on the flue-ts module of every example tree (and a file that
    breaks a type, to show the check has teeth)."""
    import subprocess

    trees = {
        "examples": [REPO / "providers.d"],
        "examples_prod": [REPO / "providers.d", REPO / "overlays" / "prod.d"],
    }
    written = []
    for name, paths in trees.items():
        compilation = compile_paths([str(p) for p in paths])
        assert compilation.ok, name
        text = module_text(compilation.calls, target="flue-ts", files=compilation.hashes)
        (workdir / f"{name}.ts").write_text(text)
        written.append(f"{name}.ts")
    broken = (
        (workdir / "examples.ts").read_text().replace('"maxTokens": 2048', '"maxTokens": "2048"')
    )
    (workdir / "broken.ts").write_text(broken)
    tsc = [
        str(NODE_DIR / "node_modules" / ".bin" / "tsc"),
        "--strict",
        "--noEmit",
        "--skipLibCheck",
        "--target",
        "es2022",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
    ]
    good = subprocess.run(
        [*tsc, *written], cwd=workdir, capture_output=True, text=True, check=False
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run(
        [*tsc, "broken.ts"], cwd=workdir, capture_output=True, text=True, check=False
    )
    assert "is not assignable to type 'number'" in bad.stdout


CHECKED = """
kind: Provider
id: p
api: openai-completions
baseUrl: "{{ env.BASE_URL | default('https://p.example/v1') }}"
apiKey: "{{ env.P_API_KEY }}"
headers:
  X-Team: "{{ env.TEAM | default('search') }}"
  X-Proto: "{{ env['__proto__'] | default('none') }}"
"""


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"BASE_URL": "http://attacker.example/v1"}, "would send its API key over plain http://"),
        ({"TEAM": "a\r\nX-Injected: 1"}, "header `X-Team` contains a line break"),
        ({"BASE_URL": "ftp://x.example"}, "baseUrl is invalid: a base URL starts with https://"),
        ({"BASE_URL": "http://u:pw@p.example/v1"}, "cannot carry a user or password"),
        ({}, None),
    ],
)
def test_the_module_checks_rendered_values_as_flue_decl_does(
    oracle: ReplayServer, workdir: Path, tmp_path: Path, env: dict[str, str], said: str | None
) -> None:
    (tmp_path / "p.yaml").write_text(CHECKED)
    compilation = compile_paths([str(tmp_path)])
    assert compilation.ok
    module = workdir / f"c{next(_COUNTER)}.mjs"
    module.write_text(module_text(compilation.calls, target="flue-js", files=compilation.hashes))
    full = {"P_API_KEY": "k-1", **env}
    _, problems = render_calls(compilation.calls, full)  # Python refuses the same values
    answer = oracle.run({"kind": "apply", "module": str(module), "env": full, "resolve": []})
    if said is None:
        assert not problems
        assert "error" not in answer, answer
        headers = answer["calls"][0]["registration"]["headers"]
        assert headers["X-Proto"] == "none"  # a variable named __proto__ is just undefined
    else:
        assert problems
        assert said in answer["error"]
        assert "p.yaml:" in answer["error"]


def test_a_file_name_cannot_end_the_header_comment(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    name = "x\u2028globalThis.PWNED = 9;.yaml"
    (tree / name).write_text("kind: ProviderConfiguration\nid: openai\n")
    compilation = compile_paths([str(tree)])
    text = module_text(compilation.calls, target="flue-js", files=compilation.hashes)
    header = text.split("\n\nimport")[0]
    assert "\u2028" not in header
    assert all(line.startswith("//") for line in header.splitlines())


RUNTIME_DECIDED = """
kind: ProviderConfiguration
id: groq
baseUrl: "{{ env.GROQ_URL | default('https://api.groq.com/openai/v1') }}"
apiKey: "{{ env.GROQ_KEY | default('') }}"
---
kind: Provider
id: gw
api: openai-completions
baseUrl: "{{ env.GW_URL | default('https://gw.example/v1') }}"
headers:
  X-APIToken: "{{ env.GW_TOKEN | default('') }}"
  maxToken: "{{ env.GW_MAX | default('100') }}"
"""


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"GROQ_URL": "http://10.1.2.3/v1"}, "sends by itself (GROQ_API_KEY)"),
        ({"GROQ_URL": "http://10.1.2.3/v1", "GROQ_KEY": "   "}, "(GROQ_API_KEY)"),
        ({"GROQ_URL": "http://10.1.2.3/v1", "GROQ_KEY": "k"}, "would send its API key"),
        ({"GROQ_URL": "http://127.1/v1"}, None),
        ({"GROQ_URL": "http://[::ffff:127.0.0.1]:8080/v1"}, None),
        ({"GROQ_URL": "http://127.evil.example/v1"}, "(GROQ_API_KEY)"),
        ({"GROQ_URL": "http://10.0.0.300/v1"}, "not a valid URL"),
        ({"GROQ_URL": "http://+127.0.0.1/v1"}, "not a valid URL"),
        ({"GROQ_URL": "https:api.groq.com"}, "write the host right after"),
        ({"GW_URL": "http://10.1.2.3/v1;key=abc"}, "the credentials in its base URL"),
        ({"GW_URL": "http://10.1.2.3/v1", "GW_TOKEN": "t"}, "header `X-APIToken`"),
        ({"GW_URL": "http://10.1.2.3/v1", "GW_MAX": "5"}, None),  # maxToken: no credential
        ({}, None),
    ],
)
def test_what_the_module_decides_at_run_time_python_decides_alike(
    oracle: ReplayServer, workdir: Path, tmp_path: Path, env: dict[str, str], said: str | None
) -> None:
    (tmp_path / "p.yaml").write_text(RUNTIME_DECIDED)
    compilation = compile_paths([str(tmp_path)])
    assert compilation.ok, compilation.diagnostics
    module = workdir / f"r{next(_COUNTER)}.mjs"
    module.write_text(module_text(compilation.calls, target="flue-js", files=compilation.hashes))
    _, problems = render_calls(compilation.calls, env)
    answer = oracle.run({"kind": "apply", "module": str(module), "env": env, "resolve": []})
    if said is None:
        assert not problems, problems
        assert "error" not in answer, answer
    else:
        assert len(problems) == 1, problems
        assert said in problems[0].message
        assert said in answer["error"], answer


def test_apply_providers_says_when_the_handlers_given_are_not_the_trees(
    oracle: ReplayServer, workdir: Path, tmp_path: Path
) -> None:
    """options.apiProviders must hold exactly the tree's ApiProviders, each a handler for
    its own api: registerApiProvider files a handler under its `api`, so a handler given
    under the wrong key, or a misspelt key, would leave the tree's protocol unhandled."""
    (tmp_path / "10-rpc.yaml").write_text(
        "kind: ApiProvider\napi: acme-rpc\nhandler: acme_llm.protocols:AcmeRpc\n"
    )
    compilation = compile_paths([str(tmp_path)])
    module = workdir / f"h{next(_COUNTER)}.mjs"
    module.write_text(module_text(compilation.calls, target="flue-js", files=compilation.hashes))
    case = {"kind": "apply", "module": str(module), "env": {}, "resolve": []}
    assert "error" not in oracle.run({**case, "apis": ["acme-rpc"]})
    extra = oracle.run({**case, "apis": ["acme-rpc", "acme-rcp"]})["error"]
    assert 'options.apiProviders["acme-rcp"] is not an ApiProvider of this tree' in extra
    assert "(it declares: acme-rpc)" in extra
    wrong = oracle.run({**case, "apis": ["acme-rpc"], "handlerApis": {"acme-rpc": "other"}})
    assert 'options.apiProviders["acme-rpc"] is a handler for api `other`' in wrong["error"]
    assert "10-rpc.yaml:1" in wrong["error"]
    module.unlink()


def test_apply_providers_returns_no_credential_and_the_runtime_gets_them_all(
    oracle: ReplayServer, workdir: Path, tmp_path: Path
) -> None:
    """What applyProviders returns is for logs: every credential as ***, the same masking
    flue-decl's Python applies; Flue's runtime was given the values."""
    (tmp_path / "10-p.yaml").write_text(
        "kind: Provider\nid: p\napi: openai-completions\n"
        "baseUrl: \"https://p.example/v1?api_key={{ env.Q }}&x=1\"\n"
        'apiKey: "{{ env.K }}"\n'
        'headers: {X-Api-Token: "{{ env.T }}", X-Team: search}\n'
        "models: {m: {}}\n"
    )
    compilation = compile_paths([str(tmp_path)])
    module = workdir / f"s{next(_COUNTER)}.mjs"
    module.write_text(module_text(compilation.calls, target="flue-js", files=compilation.hashes))
    env = {"K": "key-CANARY", "T": "token-CANARY", "Q": "query-CANARY"}
    answer = oracle.run(
        {"kind": "apply", "module": str(module), "env": env, "resolve": ["p/m"]}
    )
    (call,) = answer["calls"]
    assert "CANARY" not in json.dumps(call)
    assert call["registration"]["apiKey"] == "***"
    assert call["registration"]["headers"] == {"X-Api-Token": "***", "X-Team": "search"}
    assert call["registration"]["baseUrl"] == "https://p.example/v1?api_key=***&x=1"
    model = answer["results"][0]["model"]
    assert model["headers"]["X-Api-Token"] == "token-CANARY"  # the runtime has the value
    assert model["baseUrl"].endswith("api_key=query-CANARY&x=1")
    module.unlink()
