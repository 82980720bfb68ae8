"""Property-based fuzzing: random YAML text and random document structures through the whole
pipeline. The only acceptable failures are flue-decl's own diagnostics and FlueDeclError."""

from __future__ import annotations

import os
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fuzz.pipeline import run_pipeline
from tests.helpers import examples

FRAGMENTS = [
    "kind: Provider\n",
    "kind: ProviderConfiguration\n",
    "kind: ApiProvider\n",
    "id: x\n",
    "id: openai\n",
    "api: openai-completions\n",
    "api: cloudflare-ai-binding\n",
    "baseUrl: https://x.example\n",
    "baseUrl: http://gpu.lan\n",
    "apiKey: sk-abc\n",
    'apiKey: "{{ env.KEY }}"\n',
    "binding: AI\n",
    "gateway: {id: g}\n",
    "overlay: true\n",
    "models:\n  a: {contextWindow: 1}\n",
    "headers: {X-A: b}\n",
    "handler: m:C\n",
    "---\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!python/name:os.system ",
    "!!binary aGk=",
    "? ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    "{{",
    "}}",
    "{%",
    "%}",
    "'",
    '"',
    "\\",
    "|\n  ",
    ">\n  ",
    "\t",
    "\x00",
    "\ufeff",
    "\x1b",
    "yes",
    "on",
    "~",
    "null",
    "0o17",
    "017",
    "1:30",
    ".inf",
    ".nan",
    "2024-01-01",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "!x ",
    "# c\n",
    "\n",
    "  ",
    "é",
    "${VAR}",
    "os.environ/X",
    "{{ 'x' * 99999999 }}",
    "{% for a in 'xx' %}{% endfor %}",
]
yaml_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map(
    "".join
)

KEYS = [
    "kind",
    "id",
    "api",
    "baseUrl",
    "apiKey",
    "headers",
    "contextWindow",
    "maxTokens",
    "models",
    "binding",
    "gateway",
    "overlay",
    "handler",
    "storeResponses",
    "cacheTtl",
    "metadata",
    "X-A",
    "Authorization",
    "llama3.1:8b",
    "a/b",
    "",
    "__proto__",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "Provider",
            "ProviderConfiguration",
            "ApiProvider",
            "openai-completions",
            "cloudflare-ai-binding",
            "https://x.example",
            "http://10.1.1.1",
            "{{ env.A }}",
            "{{ env.MISSING }}",
            "{{ env.KEY }}",
            "m:C",
            "AI",
            "openai",
            "x",
        ]
    ),
    st.text(max_size=10),
)
structures = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)
    ),
    max_leaves=25,
)
FUZZ = settings(
    max_examples=int(os.environ.get("FLUE_DECL_FUZZ_EXAMPLES", examples(250))),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@FUZZ
@given(yaml_text)
@example("a: &a [*a]\n")
@example(  # found by atheris: a templated URL that urllib cannot split, next to a key
    'kind: Provider\nid: x\napi: openai-completions\napiKey: "{{ env.A }}"\n'
    "baseUrl: \"{{ env.NO | default('https://l.anrp: [{{{{{c') }}\"\n"
)
@example("kind: Provider\nid: deep\n*headers: [[[]]]\n")  # found by atheris: an alias as a key
@example('kind: ProviderConfiguration\nid: x\napiKey: "{{ env.A' + "(" * 200 + ' }}"\n')  # atheris
@example("a: " + "[" * 5000)
@example("kind: Provider\nid: x\napi: openai-completions\nbaseUrl: {{ env.A }}\n")
@example("---\n" * 1000)
@example("\ufeffkind: Provider\n")
@example("kind: Provider\nid: x\napi: cloudflare-ai-binding\nbinding: AI\ngateway: false\n")
def test_random_yaml_text_only_ever_gives_diagnostics(text: str) -> None:
    run_pipeline(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_only_ever_give_diagnostics(data: bytes) -> None:
    run_pipeline(data)


@FUZZ
@given(st.lists(structures, min_size=1, max_size=4))
def test_random_documents_only_ever_give_diagnostics(documents: list[Any]) -> None:
    text = yaml.safe_dump_all(documents, allow_unicode=True)
    run_pipeline(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "kind": st.sampled_from(["Provider", "ProviderConfiguration", "ApiProvider"]),
                "id": st.sampled_from(["x", "openai", "cf", "ollama"]),
            },
            optional=dict.fromkeys(KEYS[2:14], scalars | structures),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_almost_valid_documents_only_ever_give_diagnostics(documents: list[Any]) -> None:
    run_pipeline(yaml.safe_dump_all(documents).encode())
