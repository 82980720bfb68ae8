"""On the wire: what flue-decl's clients send, against what pi-ai sends for the same model.

A recording HTTP server on 127.0.0.1 answers every request with a 400. For each case, the
reference (replay-server.mjs ``send``: Flue's key lookup, then pi-ai's ``streamSimple``)
sends one request; then flue-decl sends the same request through ``http_client``,
``async_http_client`` and the ``openai``/``anthropic`` SDKs built from ``openai_kwargs`` /
``anthropic_kwargs``. Compared per request: scheme, host, port, path (the base path and the
endpoint), query, every auth header (name and value), ``anthropic-version``, and every
header the configuration set. Where pi-ai refuses to send, every client must refuse.

Cases: one provider per API family pi-ai sends over plain HTTP, the bundled examples, every
built-in provider of those families, and seeded random trees (keys of every shape the
runtime treats apart: blank, OAuth, JWT, none).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

import flue_decl
from flue_decl import ClientError, Registry

from .oracle import ReplayServer

ROOT = Path(__file__).resolve().parents[2]

# pi-ai's request for one message, by API: the endpoint after the base URL.
ENDPOINTS = {
    "openai-completions": "chat/completions",
    "openai-responses": "responses",
    "azure-openai-responses": "responses",
    "openai-codex-responses": "responses",  # base_url ends at /codex, as pi-ai's does
    "anthropic-messages": "v1/messages",
    "google-generative-ai": "models/{model}:streamGenerateContent?alt=sse",
    "mistral-conversations": "v1/chat/completions",
    # Vertex with an API key (express mode): plain HTTP; with Google credentials the token
    # is the service's to add (docs/python.md), and pi-ai's comes from google-auth.
    "google-vertex": "publishers/google/models/{model}:streamGenerateContent?alt=sse",
}
# Differences that remain, each with its reason in docs/clients.md ("On the wire"): the
# client refuses where pi-ai would send.
KNOWN_REFUSALS = {
    "openai": (
        # The OpenAI SDK adds Authorization to every request; Flue sends the AI Gateway's
        # key alone, as cf-aig-authorization.
        "the OpenAI SDK sends every request with an Authorization header",
        # A header value past ASCII: pi-ai sends it as Latin-1 bytes, the SDK cannot.
        "a header value holds a character the openai SDK cannot send",
        # A blank key: pi-ai sends it blank, an SDK reads its own variable instead.
        "the key is blank",
    ),
    "anthropic": (
        "a header value holds a character the anthropic SDK cannot send",
        "the key is blank",
    ),
}

AUTH = ("authorization", "x-api-key", "api-key", "x-goog-api-key", "cf-aig-authorization")
COMPARED = (*AUTH, "anthropic-version", "chatgpt-account-id")


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                recorder.requests.append(
                    {
                        "path": self.path,
                        # Every header as sent, repeated ones too, values as bytes on the
                        # wire (http.server decodes them as Latin-1).
                        "headers": [(k.lower(), v) for k, v in self.headers.items()],
                    }
                )
                body = b'{"error": {"message": "recorded", "type": "invalid_request_error"}}'
                self.send_response(400)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET = _record

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> list[dict[str, Any]]:
        out, self.requests = self.requests, []
        return out


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def jwt(account: Any) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"https://api.openai.com/auth": {"chatgpt_account_id": account}}
    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


# -- cases ---------------------------------------------------------------------------


def family_cases(base: str) -> list[dict[str, Any]]:
    out = []
    for api in ENDPOINTS:
        key = jwt("acct-1") if api == "openai-codex-responses" else "k-123"
        out.append(
            {
                "name": f"family:{api}",
                "calls": [
                    {
                        "op": "registerProvider",
                        "id": "x",
                        "registration": {
                            "api": api,
                            "baseUrl": f"{base}/family/{api}",
                            "apiKey": key,
                            "headers": {"X-Team": "search", "X-Trace-Token": "t0k"},
                            "models": {"m": {}},
                        },
                    }
                ],
                "env": {},
                "spec": "x/m",
            }
        )
    return out


def catalog_cases(base: str) -> list[dict[str, Any]]:
    catalog = flue_decl.builtin_catalog()
    out = []
    for provider in sorted(catalog.providers):
        models = catalog.models(provider)
        if not models:
            continue
        model_id = sorted(models)[0]
        api = models[model_id]["api"]
        if api not in ENDPOINTS:
            continue
        key = jwt("acct-2") if api == "openai-codex-responses" else "k-cat"
        out.append(
            {
                "name": f"catalog:{provider}",
                "calls": [
                    {
                        "op": "configureProvider",
                        "id": provider,
                        "settings": {"baseUrl": f"{base}/catalog/{provider}", "apiKey": key},
                    }
                ],
                "env": {},
                "spec": f"{provider}/{model_id}",
            }
        )
    return out


def example_cases(base: str) -> list[dict[str, Any]]:
    """The bundled providers.d, rendered, every baseUrl pointed at the recorder (its path
    kept); one case per provider, for its first model."""
    from flue_decl.runtime._render import render_or_raise

    compilation = flue_decl.compile_paths([str(ROOT / "providers.d")])
    env = {"OPENROUTER_API_KEY": "or-key", "ANTHROPIC_API_KEY": "an-key", "ACME_API_KEY": "ac"}
    calls: list[dict[str, Any]] = []
    catalog = flue_decl.builtin_catalog()
    specs = []
    for call in render_or_raise(compilation.calls, env):
        if call.op.value == "registerApiProvider":
            continue
        payload = json.loads(json.dumps(call.payload))
        url = payload.get("baseUrl")
        if url is None and call.op.value == "configureProvider":
            url = catalog.models(call.target)[sorted(catalog.models(call.target))[0]]["baseUrl"]
        if isinstance(url, str):
            payload["baseUrl"] = f"{base}/example{urllib.parse.urlsplit(url).path}"
        field = "registration" if call.op.value == "registerProvider" else "settings"
        calls.append({"op": call.op.value, "id": call.target, field: payload})
        models = list(payload.get("models") or {}) or sorted(catalog.models(call.target))
        if (payload.get("api") or catalog.api_of(call.target)) in ENDPOINTS:
            specs.append(f"{call.target}/{(models or ['any-model'])[0]}")
    return [
        {"name": f"example:{spec}", "calls": calls, "env": env, "spec": spec}
        for spec in dict.fromkeys(specs)
    ]


KEYS = [
    "k-rand",
    "",
    "  ",
    None,
    "sk-ant-oat01-abc",
    "sk-ant-api03-xyz",
    " k-spaced ",
    "k-newline\n",
    "k-\u00e9",  # one Latin-1 byte on the wire
    "<your-key>",  # Vertex: a placeholder, Google's credentials instead
    "gcp-vertex-credentials",
    "<authenticated>",
]
# Configured headers that meet the key's or flue-decl's own: pi-ai merges by name in any
# case, the later layer winning (and a few routes set the key last).
COLLIDING = [
    {"Authorization": "Bearer configured"},
    {"authorization": "Bearer configured"},
    {"x-api-key": "configured"},
    {"X-Api-Key": "configured"},
    {"api-key": "configured"},
    {"x-goog-api-key": "configured"},
    {"cf-aig-authorization": "Bearer configured"},
    {"Anthropic-Version": "2024-01-01"},
    {"user-agent": "configured-agent"},
]
CODEX_ACCOUNTS: list[Any] = ["acct", 1.5, True, {}, [1, 2], 0, "", None]


def random_cases(base: str, seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        api = rng.choice(sorted(ENDPOINTS))
        provider = rng.choice(
            ["p", "github-copilot", "cloudflare-ai-gateway", "cloudflare-workers-ai", "anthropic"]
        )
        key = rng.choice(KEYS)
        if api == "openai-codex-responses" and key:
            key = jwt(rng.choice(CODEX_ACCOUNTS))
        registration: dict[str, Any] = {
            "api": api,
            "baseUrl": f"{base}/r{n}/{rng.choice(['v1', 'api/v2', ''])}".rstrip("/"),
            "models": {"m": {}},
        }
        if key is not None:
            registration["apiKey"] = key
        headers = {}
        for name in rng.sample(["X-Team", "X-Org", "X-Api-Token", "Anthropic-Beta"], 2):
            headers[name] = f"v{n}"
        if rng.random() < 0.5:
            headers.update(rng.choice(COLLIDING))
        registration["headers"] = headers
        if provider.startswith("cloudflare") and rng.random() < 0.5:
            # pi-ai fills a Cloudflare base URL's {VARIABLES} from the environment.
            registration["baseUrl"] = f"{base}/r{n}/{{CLOUDFLARE_ACCOUNT_ID}}/v1"
        calls = [{"op": "registerProvider", "id": provider, "registration": registration}]
        if rng.random() < 0.3:
            calls.append(
                {
                    "op": "configureProvider",
                    "id": provider,
                    "settings": {"headers": {"X-Configured": "yes"}, "apiKey": "k-conf"},
                }
            )
        env = {"ANTHROPIC_API_KEY": "env-anthropic"} if rng.random() < 0.5 else {}
        if rng.random() < 0.7:
            env["CLOUDFLARE_ACCOUNT_ID"] = f"acc-{n}"
        spec = f"{provider}/m"
        out.append({"name": f"random:{seed}:{n}", "calls": calls, "env": env, "spec": spec})
    return out


# -- sending -------------------------------------------------------------------------


def registry_of(case: dict[str, Any]) -> Registry:
    registry = Registry(env=case["env"])
    for call in case["calls"]:
        if call["op"] == "registerProvider":
            registry.register_provider(call["id"], call["registration"])
        else:
            registry.configure_provider(call["id"], call["settings"])
    return registry


def flue_requests(
    registry: Registry, spec: str, recorder: Recorder
) -> dict[str, list[dict[str, Any]] | str]:
    """What each of flue-decl's clients sent for ``spec`` (or why it refused)."""
    model = registry.resolve_model(spec)
    endpoint = ENDPOINTS[model.api].format(model=model.id)
    out: dict[str, list[dict[str, Any]] | str] = {}

    def attempt(name: str, send: Any) -> None:
        recorder.take()
        try:
            send()
        except ClientError as exc:
            out[name] = f"refused: {exc}"
            return
        except (openai.APIError, anthropic.APIError, httpx.HTTPError):
            pass
        out[name] = recorder.take()

    def sync() -> None:
        with registry.http_client(spec) as client:
            client.post(endpoint, json={})

    async def _async() -> None:
        async with registry.async_http_client(spec) as client:
            await client.post(endpoint, json={})

    attempt("http_client", sync)
    attempt("async_http_client", lambda: asyncio.run(_async()))
    message = [{"role": "user", "content": "hi"}]
    # The per-request arguments too: a streaming call (as the runtime makes) must take them.
    defaults = registry.request_defaults(spec)
    if model.api in ("openai-completions", "openai-responses", "openai-codex-responses"):

        def send_openai() -> None:
            client = openai.OpenAI(**registry.openai_kwargs(spec), max_retries=0)
            if model.api == "openai-completions":
                client.chat.completions.create(
                    model=model.id, messages=message, stream=True, **defaults  # type: ignore[arg-type]
                )
            else:
                client.responses.create(model=model.id, input="hi", stream=True, **defaults)

        attempt("openai", send_openai)
    if model.api == "azure-openai-responses":

        def send_azure() -> None:
            client = openai.AzureOpenAI(**registry.openai_kwargs(spec), max_retries=0)
            client.responses.create(model=model.id, input="hi", stream=True, **defaults)

        attempt("openai", send_azure)
    if model.api == "anthropic-messages":

        def send_anthropic() -> None:
            client = anthropic.Anthropic(**registry.anthropic_kwargs(spec), max_retries=0)
            client.messages.create(
                model=model.id, messages=message, stream=True, **defaults  # type: ignore[arg-type]
            )

        attempt("anthropic", send_anthropic)
    return out


def compared(request: dict[str, Any], configured: list[str]) -> dict[str, Any]:
    path, _, query = request["path"].partition("?")
    headers = request["headers"]

    def sent(name: str) -> str | list[str] | None:
        values = [v for k, v in headers if k == name]
        return None if not values else values[0] if len(values) == 1 else values

    return {
        "path": path,
        "query": sorted(urllib.parse.parse_qsl(query, keep_blank_values=True)),
        **{name: sent(name) for name in (*COMPARED, *configured)},
    }


def differences(case: dict[str, Any], oracle: ReplayServer, recorder: Recorder) -> list[str]:
    recorder.take()
    sent = oracle.run({"kind": "send", **{k: case[k] for k in ("calls", "env", "spec")}})
    reference = recorder.take()
    registry = registry_of(case)
    model = registry.resolve_model(case["spec"])
    configured = sorted(name.lower() for name in (model.headers or {}))
    ours = flue_requests(registry, case["spec"], recorder)
    problems = []
    if not reference:
        # pi-ai sent nothing: it refused (no key), and so must every client.
        for client, got in ours.items():
            if not isinstance(got, str):
                problems.append(f"{client}: sent a request pi-ai refused ({sent['error']})")
        return problems
    expected = compared(reference[-1], configured)
    for client, got in ours.items():
        if isinstance(got, str):
            if any(reason in got for reason in KNOWN_REFUSALS.get(client, ())):
                continue
            problems.append(f"{client}: {got}; pi-ai sent {expected}")
            continue
        if len(got) != 1:
            problems.append(f"{client}: {len(got)} requests")
            continue
        actual = compared(got[0], configured)
        for field in expected:
            if expected[field] != actual[field]:
                problems.append(
                    f"{client}: {field} {actual[field]!r}, pi-ai {expected[field]!r}"
                )
    return problems


def all_cases(base: str) -> list[dict[str, Any]]:
    return [
        *family_cases(base),
        *example_cases(base),
        *catalog_cases(base),
        *random_cases(base, seed=20261203, count=150),
    ]


def test_every_client_sends_what_pi_ai_sends(oracle: ReplayServer, recorder: Recorder) -> None:
    cases = all_cases(recorder.base)
    found = {}
    for case in cases:
        problems = differences(case, oracle, recorder)
        if problems:
            found[case["name"]] = problems
    assert len(cases) > 150
    assert not found, json.dumps(found, indent=1)
