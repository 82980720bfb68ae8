"""registry.http_client / async_http_client against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flue_decl import (
    Call,
    ClientError,
    ConfigError,
    CrossOriginRequestError,
    Op,
    Registry,
    load_registry,
)
from flue_decl.runtime._clients import USER_AGENT
from flue_decl.runtime._wire import AUTH_HEADERS
from tests.helpers import REPO
from tests.loopback import Loopback, loopback_server

KEY = "sk-test-0123456789abcdef"
# Codex keys are ChatGPT tokens: pi-ai sends the account they name with them.
CODEX_KEY = (
    "e30.eyJodHRwczovL2FwaS5vcGVuYWkuY29tL2F1dGgiOnsiY2hhdGdwdF9hY2NvdW50X2lkIjoiYWNjdC0xIn19"
    ".c2ln"
)
EXPECTED_AUTH = {
    "openai-completions": ("authorization", f"Bearer {KEY}"),
    "openai-responses": ("authorization", f"Bearer {KEY}"),
    "openai-codex-responses": ("authorization", f"Bearer {CODEX_KEY}"),
    "mistral-conversations": ("authorization", f"Bearer {KEY}"),
    "azure-openai-responses": ("api-key", KEY),
    "anthropic-messages": ("x-api-key", KEY),
    "google-generative-ai": ("x-goog-api-key", KEY),
    "google-vertex": ("x-goog-api-key", KEY),
}


@pytest.fixture
def server() -> Iterator[Loopback]:
    with loopback_server() as state:
        yield state


@pytest.mark.parametrize("api", sorted(AUTH_HEADERS))
def test_each_wire_protocol_sends_its_key_in_its_header(server: Loopback, api: str) -> None:
    registry = Registry(env={})
    registry.register_provider(
        "p",
        {
            "api": api,
            "baseUrl": server.url + "/v1",
            "apiKey": CODEX_KEY if api == "openai-codex-responses" else KEY,
            "headers": {"X-Team": "search", "X-Both": "registered"},
        },
    )
    registry.configure_provider("p", {"headers": {"X-Gateway": "gw", "X-Both": "configured"}})
    with registry.http_client("p/m") as client:
        shown = repr(client) + repr(client.headers) + repr(client.auth)
        assert KEY not in shown
        assert CODEX_KEY not in shown
        assert client.get("models").status_code == 200
    (request,) = server.requests
    header, value = EXPECTED_AUTH[api]
    assert request.path == {
        "azure-openai-responses": "/v1/models?api-version=v1",  # as pi-ai's AzureOpenAI
        "openai-codex-responses": "/v1/codex/models",  # as pi-ai's resolveCodexUrl
    }.get(api, "/v1/models")
    assert request.headers[header] == value
    if api == "openai-codex-responses":
        assert request.headers["chatgpt-account-id"] == "acct-1"
    assert request.headers["x-team"] == "search"
    assert request.headers["x-gateway"] == "gw"
    assert request.headers["x-both"] == "configured"  # configureProvider's headers win
    # Codex requests carry pi-ai's own identity, set after every other header.
    agent = request.headers["user-agent"]
    assert agent.startswith("pi (") if api == "openai-codex-responses" else agent == USER_AGENT
    if api == "anthropic-messages":
        assert request.headers["anthropic-version"] == "2023-06-01"


def test_built_in_provider_through_a_gateway_with_the_env_key(server: Loopback) -> None:
    registry = Registry(env={"ANTHROPIC_API_KEY": KEY})
    registry.configure_provider("anthropic", {"baseUrl": server.url})
    with registry.http_client("anthropic/claude-sonnet-4-5") as client:
        client.get("/v1/models")
    assert server.requests[0].headers["x-api-key"] == KEY


def test_no_key_is_refused_as_pi_ai_refuses_it_and_a_placeholder_is_sent(
    server: Loopback,
) -> None:
    registry = Registry(env={})
    registry.register_provider(
        "ollama", {"api": "openai-completions", "baseUrl": server.url, "apiKey": ""}
    )
    with pytest.raises(ClientError) as info:
        registry.http_client("ollama/llama3.1:8b")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.message == "ollama/llama3.1:8b: No API key for provider: ollama"
    assert "placeholder" in (diagnostic.hint or "")
    assert server.requests == []
    registry.configure_provider("ollama", {"apiKey": "ollama"})
    with registry.http_client("ollama/llama3.1:8b") as client:
        client.get("/models")
    assert server.requests[0].headers["authorization"] == "Bearer ollama"


def test_a_blank_key_gives_way_to_the_environment_key_read_when_sending(
    server: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flue's runtime: a blank apiKey falls back to getEnvApiKey, read at send time; the
    reported key stays what resolution says."""
    registry = Registry()  # env=None: os.environ, as it is when a request is made
    registry.configure_provider("openai", {"baseUrl": server.url + "/v1", "apiKey": "  "})
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with registry.http_client("openai/gpt-4o") as client:  # sent blank, as pi-ai sends it
        client.get("models")
    with pytest.raises(ClientError, match="the key is blank"):  # an SDK would read its own
        registry.openai_kwargs("openai/gpt-4o")
    monkeypatch.setenv("OPENAI_API_KEY", "rotated-1")
    with registry.http_client("openai/gpt-4o") as client:
        client.get("models")
    monkeypatch.setenv("OPENAI_API_KEY", "rotated-2")
    with registry.http_client("openai/gpt-4o") as client:
        client.get("models")
    assert [r.headers["authorization"] for r in server.requests] == [
        "Bearer",
        "Bearer rotated-1",
        "Bearer rotated-2",
    ]
    assert registry.api_key("openai/gpt-4o") == "  "


def test_redirects_stay_on_the_origin(server: Loopback) -> None:
    registry = Registry(env={})
    registry.register_provider(
        "p", {"api": "anthropic-messages", "baseUrl": server.url, "apiKey": KEY}
    )
    with loopback_server() as elsewhere:
        server.redirect_to = f"http://localhost:{elsewhere.port}/steal"
        with registry.http_client("p/m") as client:
            assert client.get("/redirect-same").json()["path"] == "/landed"
            with pytest.raises(CrossOriginRequestError):
                client.get("/redirect-away")
        assert elsewhere.requests == []  # the key never left


def test_timeouts_apply(server: Loopback) -> None:
    registry = Registry(env={})
    registry.register_provider(
        "p", {"api": "openai-completions", "baseUrl": server.url, "apiKey": KEY}
    )
    with registry.http_client("p/m", timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        client.get("/slow")


def test_async_client(server: Loopback) -> None:
    registry = Registry(env={"OPENAI_API_KEY": KEY})
    registry.configure_provider("openai", {"baseUrl": server.url + "/v1"})

    async def call() -> int:
        async with registry.async_http_client("openai/gpt-4o") as client:
            return (await client.get("models")).status_code

    assert asyncio.run(call()) == 200
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_key_never_goes_over_plain_http_off_loopback() -> None:
    registry = Registry(env={})
    registry.register_provider(
        "lan", {"api": "openai-completions", "baseUrl": "http://gpu-box.lan/v1", "apiKey": KEY}
    )
    with pytest.raises(ClientError) as info:
        registry.http_client("lan/m")
    assert [d.code for d in info.value.diagnostics] == ["insecure-key-transport"]
    assert KEY not in str(info.value)
    keyless = Registry(env={})
    keyless.register_provider(
        "lan", {"api": "openai-completions", "baseUrl": "http://gpu-box.lan/v1"}
    )
    with pytest.raises(ClientError) as info:  # without a key, pi-ai sends nothing at all
        keyless.http_client("lan/m")
    assert "No API key" in str(info.value)


def test_custom_protocol_decides_its_own_auth(
    server: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO / "examples"))
    sys.modules.pop("acme_llm.protocols", None)
    env = {
        "ANTHROPIC_API_KEY": "a",
        "OPENROUTER_API_KEY": "o",
        "ACME_API_KEY": KEY,
        "ACME_URL": server.url + "/rpc",
    }
    registry = load_registry([str(REPO / "providers.d")], env=env, handler_modules=["acme_llm"])
    with registry.http_client("acme/large") as client:
        client.get("ping")
    assert server.requests[0].path == "/rpc/ping"
    assert server.requests[0].headers["x-acme-key"] == KEY


@pytest.mark.parametrize("proxy", ["http://192.0.2.99:3128", "http://proxy.example:8080"])
def test_plain_http_never_goes_through_a_proxy_off_this_machine(
    server: Loopback, monkeypatch: pytest.MonkeyPatch, proxy: str
) -> None:
    # The proxy is only configured: the client must not route through it (checked before
    # anything is sent), and the request arrives at the loopback server directly.
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    registry = Registry(env={})
    registry.register_provider(
        "p", {"api": "openai-completions", "baseUrl": server.url + "/v1", "apiKey": KEY}
    )
    with registry.http_client("p/m") as client:
        assert client._transport_for_url(httpx.URL(server.url + "/v1/models")) is (
            client._transport  # the direct one, not a proxy mount
        )
        assert client.get("models").status_code == 200
    (request,) = server.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_a_loopback_proxy_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    registry = Registry(env={})
    payload = {"api": "openai-completions", "baseUrl": "http://10.9.8.7/v1", "apiKey": "k"}
    registry.apply(Call(Op.REGISTER_PROVIDER, "p", payload, {}, allow_plain_http=True))
    with registry.http_client("p/m") as client:
        routed = client._transport_for_url(httpx.URL("http://10.9.8.7/v1/models"))
        assert routed is not client._transport  # through the proxy mount; nothing is sent


ALLOWED = """
kind: Provider
id: litellm
api: openai-completions
baseUrl: http://litellm.internal:4000/v1
apiKey: "{{ env.LITELLM_KEY }}"
headers: {X-Team: t}
"""


@pytest.mark.parametrize("allow", [False, True])
def test_allow_plain_http_is_the_reviewed_way_to_send_a_key_over_http(
    tmp_path: Path, allow: bool
) -> None:
    from flue_decl import ValidationError, compile_paths
    from flue_decl.views import explain

    tree = tmp_path / "providers.d"
    tree.mkdir()
    (tree / "10-a.yaml").write_text(ALLOWED + ("allowPlainHttp: true\n" if allow else ""))
    env = {"LITELLM_KEY": "k-1"}
    if not allow:
        with pytest.raises(ValidationError) as info:
            load_registry([str(tree)], env=env)
        assert [d.code for d in info.value.diagnostics] == ["insecure-key-transport"]
        return
    notes = [d.code for d in compile_paths([str(tree)]).diagnostics]
    assert notes == ["plain-http-allowed"]
    registry = load_registry([str(tree)], env=env)
    assert registry.allows_plain_http("litellm")
    rows = {r.field: r for r in explain(registry, "litellm/m")}
    assert rows["allowPlainHttp"].origin is not None
    assert rows["allowPlainHttp"].origin.place.line == 8
    # The client is made (no request is sent: the host is not on this machine).
    with registry.http_client("litellm/m") as client:
        assert str(client.base_url).startswith("http://litellm.internal:4000")
    # Flue is never given the key: calls and the artifact's calls leave it out.
    from flue_decl.runtime import artifact_text, read_artifact, render_or_raise

    compilation = compile_paths([str(tree)])
    (call,) = compilation.calls
    assert "allowPlainHttp" not in call.payload
    assert "allowPlainHttp" not in str(render_or_raise([call], env)[0].to_replay())
    artifact = tmp_path / "a.json"
    artifact.write_text(
        artifact_text(compilation.calls, layers=compilation.layer_roots, files=compilation.hashes)
    )
    (decoded,) = read_artifact(str(artifact))
    assert decoded.allow_plain_http
    assert decoded.payload == call.payload


def test_a_client_refuses_credential_headers_over_plain_http() -> None:
    registry = Registry(env={})
    registry.register_provider(
        "gw",
        {
            "api": "openai-completions",
            "baseUrl": "http://192.0.2.2:8000/v1",
            "headers": {"X-Api-Token": "t-CANARY", "X-Team": "t"},
        },
    )
    with pytest.raises(ClientError) as info:
        registry.http_client("gw/m")
    assert info.value.diagnostics[0].code == "insecure-key-transport"
    assert "CANARY" not in str(info.value)


ROADS = """
kind: Provider
id: gw
api: openai-completions
apiKey: ""  # the gateway takes the header; Flue's runtime still sends no request keyless
baseUrl: "{{ env.BASE }}/v1?api-version=2024-10&key={{ env.QUERY_VALUE }}"
headers:
  X-Custom: "{{ env.SESSION_TOKEN }}"
  X-Team: search
"""
ROADS_ENV = {"QUERY_VALUE": "q-CANARY-1", "SESSION_TOKEN": "s-CANARY-2"}


def test_credentials_by_other_roads_travel_through_the_auth_only(
    server: Loopback, tmp_path: Path
) -> None:
    (tmp_path / "10-gw.yaml").write_text(ROADS)
    registry = load_registry([str(tmp_path)], env={**ROADS_ENV, "BASE": server.url})
    registry.configure_provider("gw", {"apiKey": "placeholder"})
    with registry.http_client("gw/m") as client:
        shown = repr(client) + repr(client.headers) + str(client.base_url) + repr(client.auth)
        assert "CANARY" not in shown
        assert "x-custom" not in client.headers
        assert client.get("models").status_code == 200
    (request,) = server.requests
    assert request.path == "/v1/models?api-version=2024-10&key=q-CANARY-1"
    assert request.headers["x-custom"] == "s-CANARY-2"
    assert request.headers["x-team"] == "search"


@pytest.mark.parametrize("base", ["http://192.0.2.99:8000", "http://10.0.0.5"])
def test_credentials_by_other_roads_never_go_over_plain_http(tmp_path: Path, base: str) -> None:
    (tmp_path / "10-gw.yaml").write_text(ROADS)
    with pytest.raises(ConfigError) as info:  # found when the URL is rendered
        load_registry([str(tmp_path)], env={**ROADS_ENV, "BASE": base})
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "insecure-key-transport"
    assert "header `X-Custom` and the credentials in its base URL" in diagnostic.message
    assert "CANARY" not in str(info.value)
    # allowPlainHttp is the way out, as for the key.
    (tmp_path / "10-gw.yaml").write_text(ROADS + "allowPlainHttp: true\n")
    registry = load_registry([str(tmp_path)], env={**ROADS_ENV, "BASE": base})
    registry.configure_provider("gw", {"apiKey": "placeholder"})
    registry.http_client("gw/m").close()


def test_a_literal_url_with_a_secret_header_is_refused_at_validate(tmp_path: Path) -> None:
    from flue_decl import compile_paths

    (tmp_path / "10-gw.yaml").write_text(
        ROADS.replace("{{ env.BASE }}", "http://192.0.2.99").replace(
            "&key={{ env.QUERY_VALUE }}", ""
        )
    )
    codes = [d.code for d in compile_paths([str(tmp_path)]).diagnostics]
    assert codes == ["insecure-key-transport"]


VERTEX = "google-vertex/gemini-2.5-pro"


@pytest.mark.parametrize(
    ("env", "base_url"),
    [
        (
            {"GOOGLE_CLOUD_PROJECT": "my-proj-1", "GOOGLE_CLOUD_LOCATION": "us-central1"},
            "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj-1/locations/us-central1/",
        ),
        (
            {"GCLOUD_PROJECT": "my-proj-1", "GOOGLE_CLOUD_LOCATION": "global"},
            "https://aiplatform.googleapis.com/v1/projects/my-proj-1/locations/global/",
        ),
        ({"GOOGLE_CLOUD_API_KEY": "k-123"}, "https://aiplatform.googleapis.com/v1/"),
    ],
)
def test_vertex_gets_its_project_and_location_as_the_runtime_does(
    env: dict[str, str], base_url: str
) -> None:
    registry = Registry(env=env)
    with registry.http_client(VERTEX) as client:
        assert str(client.base_url) == base_url
        assert "{location}" not in str(client.base_url)
    # With Google credentials (no key) the token is the service's to add: auth= is taken.
    if "GOOGLE_CLOUD_API_KEY" not in env:
        token = httpx.BasicAuth("u", "p")  # any httpx.Auth: google-auth's adapter in a service
        with registry.http_client(VERTEX, auth=token) as client:
            assert client.auth is token
    else:
        with pytest.raises(TypeError, match="auth"):  # the model's own key is not replaced
            registry.http_client(VERTEX, auth=httpx.BasicAuth("u", "p"))


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({}, "set GOOGLE_CLOUD_PROJECT (or GCLOUD_PROJECT) and GOOGLE_CLOUD_LOCATION"),
        ({"GOOGLE_CLOUD_PROJECT": "my-proj-1"}, "set GOOGLE_CLOUD_LOCATION"),
        (
            {"GOOGLE_CLOUD_PROJECT": "my-proj-1", "GOOGLE_CLOUD_LOCATION": "evil.example/x"},
            "not a Google Cloud project ID or location",
        ),
    ],
)
def test_vertex_without_project_or_location_says_what_is_missing(
    env: dict[str, str], said: str
) -> None:
    with pytest.raises(ClientError) as info:
        Registry(env=env).http_client(VERTEX)
    (diag,) = info.value.diagnostics
    assert diag.code == "client-unsupported"
    assert said in diag.message


@pytest.mark.parametrize("query", ["%6Bey=S", "api+key=S", "access%5Ftoken=S"])
def test_credential_query_names_however_encoded_are_credentials(query: str) -> None:
    registry = Registry(env={})
    registry.register_provider(
        "p", {"api": "openai-completions", "baseUrl": f"http://192.0.2.99/v1?{query}"}
    )
    with pytest.raises(ClientError) as info:
        registry.http_client("p/m")
    assert info.value.diagnostics[0].code == "insecure-key-transport"
    registry.register_provider(
        "p",
        {
            "api": "openai-completions",
            "baseUrl": f"https://h.example/v1?{query}&x=1",
            "apiKey": "k",
        },
    )
    with registry.http_client("p/m") as client:
        assert "S" not in str(client.params).replace("x=1", "")
        assert client.auth is not None


def test_a_loaded_registry_reads_the_runtimes_own_keys_when_it_sends(
    server: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_registry renders templates once; a built-in provider's environment key is read
    when a client is made (os.environ, live), so a rotated OPENAI_API_KEY reaches the next
    request as it reaches Flue's."""
    (tmp_path / "10-openai.yaml").write_text(
        f"kind: ProviderConfiguration\nid: openai\nbaseUrl: {server.url}/v1\n"
    )
    monkeypatch.setenv("OPENAI_API_KEY", "first")
    registry = load_registry([str(tmp_path)])
    for key in ("first", "second"):
        monkeypatch.setenv("OPENAI_API_KEY", key)
        with registry.http_client("openai/gpt-4o") as client:
            client.get("models")
        assert registry.openai_kwargs("openai/gpt-4o")["api_key"] == key
    assert [r.headers["authorization"] for r in server.requests] == [
        "Bearer first",
        "Bearer second",
    ]
