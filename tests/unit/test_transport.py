"""The transport rule and URL reading, case by case (issue 21): keys Flue's runtime reads by
itself, loopback on the parsed host, WHATWG validity, constant parts of templates, the
credential names and template references. The same cases run in node against the emitted
module in tests/conformance/test_emit.py; the shared corpora in tests/conformance/test_urls.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flue_decl import TemplateError, compile_paths, load_registry
from flue_decl._urls import read_problem, url_problem
from flue_decl.templates import credential_paths, references
from tests.helpers import examples, write_files


def codes(tmp_path: Path, text: str) -> list[str]:
    write_files(tmp_path, {"p/a.yaml": text})
    return [d.code for d in compile_paths(str(tmp_path / "p")).diagnostics]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A built-in pointed at plain http off loopback: Flue sends OPENAI_API_KEY there.
        ("kind: ProviderConfiguration\nid: openai\nbaseUrl: http://proxy.internal.example/v1\n",
         ["insecure-key-transport"]),
        # ... and so for a blank key, which pi-ai takes for none.
        ("kind: ProviderConfiguration\nid: openai\nbaseUrl: http://proxy.internal.example/v1\n"
         "apiKey: ''\n", ["insecure-key-transport"]),
        ("kind: ProviderConfiguration\nid: openai\nbaseUrl: http://proxy.internal.example/v1\n"
         "apiKey: '  '\n", ["insecure-key-transport"]),
        # A registered provider whose ID has an environment key: GROQ_API_KEY.
        ("kind: Provider\nid: groq\napi: openai-completions\nbaseUrl: http://10.1.2.3/v1\n",
         ["insecure-key-transport", "shadows-builtin"]),
        # An ID the runtime has no key for sends nothing: fine.
        ("kind: Provider\nid: gpu-box\napi: openai-completions\nbaseUrl: http://10.1.2.3/v1\n",
         []),
        # The SDK behind an API sends its credentials whatever the ID: AWS's for Bedrock,
        # even with a key; Google's for Vertex without one.
        ("kind: Provider\nid: amazon-bedrock\napi: openai-completions\n"
         "baseUrl: http://10.1.2.3/v1\n", ["shadows-builtin"]),
        ("kind: ProviderConfiguration\nid: amazon-bedrock\nbaseUrl: http://10.1.2.3/v1\n",
         ["insecure-key-transport"]),
        ("kind: Provider\nid: corp-bedrock\napi: bedrock-converse-stream\n"
         "baseUrl: http://bedrock-proxy.corp.example\n", ["insecure-key-transport"]),
        ("kind: Provider\nid: corp-bedrock\napi: bedrock-converse-stream\n"
         "baseUrl: http://bedrock-proxy.corp.example\napiKey: '{{ env.K }}'\n",
         ["insecure-key-transport"]),
        ("kind: Provider\nid: corp-vertex\napi: google-vertex\n"
         "baseUrl: http://vertex-proxy.corp.example/v1\n", ["insecure-key-transport"]),
        ("kind: Provider\nid: corp-vertex\napi: google-vertex\n"
         "baseUrl: http://localhost:8080/v1\n", []),
        # A reviewed exception stays possible.
        ("kind: ProviderConfiguration\nid: openai\nbaseUrl: http://proxy.internal.example/v1\n"
         "allowPlainHttp: true\n", ["plain-http-allowed"]),
        # Loopback only where the parsed host is loopback.
        ("kind: Provider\nid: p\napi: openai-completions\nbaseUrl: http://127.evil.example/\n"
         "apiKey: '{{ env.K }}'\n", ["insecure-key-transport"]),
        ("kind: Provider\nid: p\napi: openai-completions\nbaseUrl: http://0x7f.1:8080/v1\n"
         "apiKey: '{{ env.K }}'\n", []),
        ("kind: Provider\nid: p\napi: openai-completions\nbaseUrl: http://[::ffff:127.0.0.1]/\n"
         "apiKey: '{{ env.K }}'\n", []),
        # Validity is WHATWG's; some readings are refused on purpose.
        ("kind: Provider\nid: p\napi: openai-completions\nbaseUrl: http://10.0.0.300/v1\n",
         ["invalid-url"]),
        ("kind: Provider\nid: p\napi: openai-completions\nbaseUrl: http://+127.0.0.1/\n",
         ["invalid-url"]),
        ("kind: Provider\nid: p\napi: openai-completions\nbaseUrl: http://1_27.0.0.1/\n",
         ["invalid-url"]),
        ("kind: Provider\nid: p\napi: openai-completions\nbaseUrl: 'https:api.example.com'\n",
         ["invalid-url"]),
        ("kind: Provider\nid: p\napi: openai-completions\nbaseUrl: http://u:p@10.1.2.3/v1\n",
         ["invalid-url"]),
        # Constant parts of templates: a default in clear, userinfo in the template's text.
        ("kind: Provider\nid: p\napi: openai-completions\n"
         "baseUrl: \"{{ env.BASE | default('http://api.corp.example/v1') }}\"\n"
         "apiKey: '{{ env.K }}'\n", ["insecure-key-transport"]),
        ("kind: Provider\nid: p\napi: openai-completions\n"
         "baseUrl: 'http://svc:{{ env.PW }}@10.1.2.3/v1'\n", ["invalid-url"]),
        ("kind: Provider\nid: p\napi: openai-completions\n"
         "baseUrl: 'http://api.corp.example/{{ env.TENANT }}'\napiKey: '{{ env.K }}'\n",
         ["insecure-key-transport"]),
        # A host from a variable is decided when it is rendered.
        ("kind: Provider\nid: p\napi: openai-completions\n"
         "baseUrl: 'http://{{ env.HOST }}/v1'\napiKey: '{{ env.K }}'\n", []),
    ],
)
def test_validate(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert sorted(codes(tmp_path, text)) == sorted(expected)


def test_at_load_the_rendered_url_decides(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "p/a.yaml": "kind: ProviderConfiguration\nid: groq\nbaseUrl: '{{ env.GROQ_URL }}'\n"
            "apiKey: \"{{ env.GROQ_KEY | default('') }}\"\n"
        },
    )
    for url, refused in (
        ("http://10.1.2.3/v1", True),  # no key given: the runtime's GROQ_API_KEY goes
        ("http://127.1/v1", False),
        ("https://api.groq.com/openai/v1", False),
    ):
        env = {"GROQ_URL": url}
        if refused:
            with pytest.raises(TemplateError) as info:
                load_registry(str(tmp_path / "p"), env=env)
            assert [d.code for d in info.value.diagnostics] == ["insecure-key-transport"]
            assert "GROQ_API_KEY" in info.value.diagnostics[0].message
        else:
            load_registry(str(tmp_path / "p"), env=env)


def test_credential_names_are_precise_both_ways(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "p/a.yaml": "kind: Provider\nid: xiaomi-gw\napi: openai-completions\n"
            "baseUrl: \"{{ env.XIAOMI_TOKEN_PLAN_AMS_CFG_URL | default('https://x.example') }}\"\n"
            "headers: {maxToken: '4096', X-APIToken: '{{ env.T }}'}\n"
        },
    )
    compilation = compile_paths(str(tmp_path / "p"))
    assert compilation.ok
    assert [d.code for d in compilation.diagnostics] == []  # no literal-secret on the URL
    (call,) = compilation.calls
    assert sorted(credential_paths("Provider", call.payload)) == [("headers", "X-APIToken")]


def test_template_references_come_from_the_parser() -> None:
    source = "https://secret.example.com/{{ env.REGION }}"
    assert [(r.kind, r.name) for r in references(source)] == [("env", "REGION")]
    assert credential_paths("Provider", {"baseUrl": source}) == []
    both = "{{ secret['db-pw'] if env.X is defined else env['A-B'] }}"
    assert [(r.kind, r.name) for r in references(both)] == [
        ("env", "X"),
        ("secret", "db-pw"),
        ("env", "A-B"),
    ]
    assert references("not {{ a template") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A custom protocol's ws:// is as clear as http://.
        ("kind: ApiProvider\napi: acme-ws\nhandler: acme.ws:Handler\n---\n"
         "kind: Provider\nid: acme\napi: acme-ws\nbaseUrl: ws://llm.corp.example/rpc\n"
         "apiKey: '{{ env.K }}'\n", ["insecure-key-transport"]),
        ("kind: ApiProvider\napi: acme-ws\nhandler: acme.ws:Handler\n---\n"
         "kind: Provider\nid: acme\napi: acme-ws\nbaseUrl: wss://llm.corp.example/rpc\n"
         "apiKey: '{{ env.K }}'\n", []),
        # A host pi-ai fills in from the environment is never taken for loopback.
        ("kind: Provider\nid: p\napi: openai-completions\n"
         "baseUrl: 'http://{CF_TENANT}.localhost/v1'\napiKey: '{{ env.K }}'\n",
         ["insecure-key-transport"]),
        # A URL template's own text is not a key (only known key shapes count there) ...
        ("kind: Provider\nid: p\napi: openai-completions\n"
         "baseUrl: 'https://gateway.corp.example.com/{{ env.TENANT_SECRET }}/v1'\n", []),
        ("kind: Provider\nid: p\napi: openai-completions\n"
         "baseUrl: 'https://api.example.com/v1?sig={{ env.SAS_SIG }}'\n", []),
        # ... and a blank literal key holds nothing.
        ("kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example\n"
         "apiKey: '  '\n", []),
    ],
)
def test_validate_more(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert sorted(codes(tmp_path, text)) == sorted(expected)


def test_compile_accepts_templates_that_carry_a_credential_in_the_url(tmp_path: Path) -> None:
    from flue_decl.compiler import literal_secrets

    write_files(
        tmp_path,
        {
            "p/a.yaml": "kind: Provider\nid: p\napi: openai-completions\n"
            "baseUrl: 'https://gateway.corp.example.com/{{ env.TENANT_SECRET }}/v1'\n"
            "apiKey: '  '\n"
        },
    )
    compilation = compile_paths(str(tmp_path / "p"))
    assert literal_secrets(compilation.calls) == []


def test_sdk_arguments_never_let_an_sdk_find_a_key_itself(tmp_path: Path) -> None:
    from flue_decl import ClientError

    write_files(
        tmp_path,
        {
            "p/a.yaml": "kind: Provider\nid: corp-claude\napi: anthropic-messages\n"
            "baseUrl: https://claude-gw.corp.example\n---\n"
            "kind: Provider\nid: local\napi: openai-completions\n"
            "baseUrl: http://localhost:11434/v1\n"
        },
    )
    registry = load_registry(str(tmp_path / "p"), env={"ANTHROPIC_API_KEY": "sk-ant-env"})
    with pytest.raises(ClientError, match="No API key for provider"):
        registry.anthropic_kwargs("corp-claude/m")
    with pytest.raises(ClientError, match="No API key for provider"):
        registry.openai_kwargs("local/llama")


def test_caller_credentials_follow_the_transport_rule(tmp_path: Path) -> None:
    import httpx

    from flue_decl import ClientError

    write_files(
        tmp_path,
        {
            "p/a.yaml": "kind: Provider\nid: corp-vertex\napi: google-vertex\n"
            "baseUrl: http://localhost:8080/v1\n"
        },
    )
    # Google's credentials (no key): pi-ai needs the project and location then.
    env = {"GOOGLE_CLOUD_PROJECT": "my-proj-1", "GOOGLE_CLOUD_LOCATION": "us-central1"}
    registry = load_registry(str(tmp_path / "p"), env=env)
    auth = httpx.BasicAuth("u", "p")
    registry.http_client("corp-vertex/gemini", auth=auth).close()  # loopback: fine
    registry.configure_provider("corp-vertex", {"baseUrl": "http://vertex.corp.example/v1"})
    with pytest.raises(ClientError, match="plain http"):
        registry.http_client("corp-vertex/gemini", auth=auth)


def test_an_old_artifact_is_held_to_todays_rule(tmp_path: Path) -> None:
    from flue_decl import InputError, load_artifact
    from flue_decl.compiler import compile_paths as compiled
    from flue_decl.runtime import artifact_text
    from tests.unit.runtime.test_artifact import _resign

    write_files(
        tmp_path,
        {"p/a.yaml": "kind: ProviderConfiguration\nid: openai\nbaseUrl: https://gw.example/v1\n"},
    )
    compilation = compiled(str(tmp_path / "p"))
    text = artifact_text(compilation.calls, layers=compilation.layer_roots, files=())
    # What an older flue-decl, which did not know the runtime reads OPENAI_API_KEY itself,
    # would have compiled: the checksum recomputed, as that version would have written it.
    old = text.replace("https://gw.example/v1", "http://proxy.corp.example/v1")
    artifact = tmp_path / "registry.json"
    artifact.write_text(_resign(old))
    with pytest.raises((TemplateError, InputError)) as info:
        load_artifact(artifact, env={})
    assert [d.code for d in info.value.diagnostics] == ["insecure-key-transport"]


def test_a_fallback_in_clear_is_found_however_the_template_spells_it(tmp_path: Path) -> None:
    text = (
        "kind: Provider\nid: p\napi: openai-completions\n"
        "baseUrl: \"{{ env.BASE if env.BASE else 'http://api.corp.example/v1' }}\"\n"
        "apiKey: '{{ env.K }}'\n"
    )
    assert codes(tmp_path, text) == ["insecure-key-transport"]


# -- the parser-free reading of plain base URLs ----------------------------------------------

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
PLAIN_PIECES = st.lists(
    st.sampled_from(
        ["http", "https", "HTTP", "://", ":/", "/", ".", "a", "Z", "example", "0", "9", "0x",
         "1.2.3.4", "xn--", "XN--ab", "-", "_", "~", ":", "80", "65535", "65536", "00080",
         "@", "\\", "%41", "?", "#", " ", "\t", "é", "[::1]", "localhost", "..", "com"]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=examples(4000), deadline=None, database=None)
@given(st.one_of(PLAIN_PIECES, st.builds("https://{}".format, PLAIN_PIECES)))
@example("https://xn--httpslocalhost65535%41")  # Punycode for a lone surrogate: refused
def test_plain_urls_are_told_alike_with_and_without_the_parser(value: str) -> None:
    for any_scheme in (False, True):
        assert url_problem(value, any_scheme=any_scheme) == read_problem(
            value, any_scheme=any_scheme
        ), value


def test_plain_urls_are_told_alike_on_the_shared_corpora() -> None:
    wpt = [e["input"] for e in json.loads((CORPUS / "urltestdata.json").read_text()) if e != str(e)]
    ours = json.loads((CORPUS / "adversarial-urls.json").read_text())
    values = [*wpt, *ours, *(f"https://{v}" for v in ours if "://" not in v)]
    assert len(values) > 800
    differ = [v for v in values if url_problem(v) != read_problem(v)]
    assert differ == []
