"""Hypothesis strategies for whole providers.d trees, built backwards from their meaning.

A :class:`World` is drawn first: the registry calls a tree *means* (final
registrations, settings and api declarations), an environment, and the
specifiers to resolve. Only then is it written out as YAML, in one of many
equivalent ways: values as literals or templates (with and without defaults),
definitions split into a base and overlays (including ``null`` removals),
documents spread over files and layers in byte order of file name, plus junk
files that discovery must skip. The expected calls therefore never come from
flue-decl itself, so the comparison is not circular.
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import strategies as st

from flue_decl import PI_APIS, builtin_catalog
from flue_decl._secrets import is_credential_name

CATALOG = builtin_catalog()
CATALOG_IDS = sorted(CATALOG.providers)
CUSTOM_IDS = [
    "ollama",
    "acme",
    "cf",
    "lab-1",
    "my_router",
    "x",
    "Team.AI",
    "__init__",
]  # JS prototype names are refused (reserved-id)
CUSTOM_APIS = ["acme-rpc", "beta.proto", "wire_v2"]
BASE_URLS = [
    "https://api.example.com/v1",
    "https://gw.example.org/a/b",
    "http://localhost:11434/v1",
    "http://127.0.0.1:8080",
    "http://[::1]:9000/v1",
    "https://10.0.0.5/v1",
    "http://gpu-box.lan:8000/v1",  # plain http off loopback: valid only without a key
]
HEADER_NAMES = [
    "X-Team",
    "Authorization",
    "x-api-key",
    "X-Env",
    "OpenAI-Project",
    "HTTP-Referer",
    # names a JavaScript object puts first, in numeric order
    "2",
    "10",
    "0",
]
# Numbers JavaScript and Python spell differently, and ordinary ones.
NUMBERS = st.one_of(
    st.integers(0, 3600),
    st.sampled_from([0.000001, 0.0000001, 1.5, 0.1, 123.456, 1e21, 2.5e-8, 1e16, 3e-5]),
)
SAFE_TEXT = string.ascii_letters + string.digits + "-_.:/@ "
MODEL_ID_PARTS = [
    "llama3.1:8b",
    "gpt-4o",
    "a/b/c",
    "@cf/meta/x",
    "x@y:z",
    "m",
    "Qwen/Qwen2.5:7b",
    # names that a JavaScript object lookup resolves through the prototype
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
]
# Environment variables pi-ai reads for keys, and the SDK-credential ones.
KEY_ENV = sorted(
    {name for entry in CATALOG.providers.values() for name in entry["apiKeyEnv"]}
    | {
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_APPLICATION_CREDENTIALS",
    }
)


@dataclass
class World:
    apis: dict[str, str] = field(default_factory=dict)  # api -> handler
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    specs: list[str] = field(default_factory=list)


@dataclass
class Tree:
    """Files to write (relative path -> text), the layer roots in order, and the meaning."""

    files: dict[str, bytes]
    layers: list[str]
    env: dict[str, str]
    expected_calls: list[dict[str, Any]]
    specs: list[str]


text_values = st.text(alphabet=SAFE_TEXT, min_size=0, max_size=16)
secret_values = st.text(
    alphabet=string.ascii_letters + string.digits + "-_", min_size=0, max_size=24
)
token_counts = st.integers(min_value=0, max_value=2_000_000)
model_ids = st.one_of(
    st.sampled_from(MODEL_ID_PARTS),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.:/@", min_size=1, max_size=12),
)


@st.composite
def http_registration(draw: st.DrawFn, apis: list[str]) -> dict[str, Any]:
    reg: dict[str, Any] = {
        "api": draw(st.sampled_from([*PI_APIS, *apis])),
        "baseUrl": draw(st.sampled_from(BASE_URLS)),
    }
    if draw(st.booleans()):
        reg["apiKey"] = draw(secret_values)
    if draw(st.booleans()):
        reg["headers"] = draw(
            st.dictionaries(st.sampled_from(HEADER_NAMES), text_values, max_size=3)
        )
    if draw(st.booleans()):
        reg["contextWindow"] = draw(token_counts)
    if draw(st.booleans()):
        reg["maxTokens"] = draw(token_counts)
    if draw(st.booleans()):
        reg["models"] = draw(
            st.dictionaries(
                model_ids,
                st.fixed_dictionaries(
                    {}, optional={"contextWindow": token_counts, "maxTokens": token_counts}
                ),
                max_size=3,
            )
        )
    return reg


@st.composite
def binding_registration(draw: st.DrawFn) -> dict[str, Any]:
    reg: dict[str, Any] = {
        "api": "cloudflare-ai-binding",
        "binding": draw(st.sampled_from(["AI", "WORKERS_AI"])),
    }
    gateway = draw(
        st.one_of(
            st.none(),
            st.just(False),
            st.fixed_dictionaries(
                {"id": st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=10)},
                optional={
                    "cacheTtl": NUMBERS,
                    "skipCache": st.booleans(),
                    "cacheKey": text_values,
                    "eventId": text_values,
                    "collectLog": st.booleans(),
                    "requestTimeoutMs": NUMBERS,
                    "metadata": st.dictionaries(
                        st.sampled_from(["team", "env", "2", "10", "01"]),
                        st.one_of(text_values, st.integers(0, 9), NUMBERS, st.booleans()),
                        max_size=3,
                    ),
                },
            ),
        )
    )
    if gateway is not None:
        reg["gateway"] = gateway
    return reg


@st.composite
def settings_for(draw: st.DrawFn) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if draw(st.booleans()):
        settings["baseUrl"] = draw(st.sampled_from(BASE_URLS))
    if draw(st.booleans()):
        settings["headers"] = draw(
            st.dictionaries(st.sampled_from(HEADER_NAMES), text_values, max_size=3)
        )
    if draw(st.booleans()):
        settings["apiKey"] = draw(secret_values)
    if draw(st.booleans()):
        settings["storeResponses"] = draw(st.booleans())
    return settings


def _make_secure(pid: str, reg: dict[str, Any] | None, conf: dict[str, Any] | None) -> None:
    """Credentials must not travel over plain http off loopback (a config error): keep
    worlds valid."""
    # Any apiKey counts, even "": the tree may write it as a template, and validate rejects a
    # templated key on a literal non-loopback http URL (it may render non-empty).
    # Credential headers count the same way (Authorization, x-api-key ...).
    url_owner = conf if conf and "baseUrl" in conf else reg
    has_key = bool(conf and "apiKey" in conf) or bool(reg and "apiKey" in reg)
    has_key = has_key or any(
        is_credential_name(name)
        for side in (reg, conf)
        if side and isinstance(side.get("headers"), dict)
        for name in side["headers"]
    )
    # Without a key, Flue's runtime sends the one it finds for the ID (GROQ_API_KEY...).
    api = reg.get("api") if reg else None
    has_key = has_key or builtin_catalog().runtime_credential(pid, api) is not None
    if url_owner and has_key and str(url_owner.get("baseUrl", "")).startswith("http://gpu-box"):
        url_owner["baseUrl"] = "https://api.example.com/v1"


@st.composite
def worlds(draw: st.DrawFn) -> World:
    world = World()
    for api in draw(st.lists(st.sampled_from(CUSTOM_APIS), unique=True, max_size=2)):
        world.apis[api] = f"protocols.{api.replace('-', '_').replace('.', '_')}:Handler"
    ids = draw(
        st.lists(
            st.sampled_from(
                [
                    *CUSTOM_IDS,
                    *CATALOG_IDS[:12],
                    "cloudflare-workers-ai",
                    "openai",
                    "anthropic",
                    "amazon-bedrock",
                    "google-vertex",
                ]
            ),
            unique=True,
            max_size=4,
        )
    )
    for pid in ids:
        world.providers[pid] = draw(
            st.one_of(http_registration(list(world.apis)), binding_registration())
            if draw(st.integers(0, 4)) == 0
            else http_registration(list(world.apis))
        )
    targets = draw(
        st.lists(st.sampled_from(sorted({*world.providers, *CATALOG_IDS})), unique=True, max_size=3)
    )
    for pid in targets:
        world.settings[pid] = draw(settings_for())
    for pid in {*world.providers, *world.settings}:
        reg = world.providers.get(pid)
        _make_secure(
            pid,
            reg if reg and reg["api"] != "cloudflare-ai-binding" else None, world.settings.get(pid)
        )
    world.env = draw(
        st.dictionaries(
            st.sampled_from(KEY_ENV),
            st.one_of(
                st.just(""),
                secret_values,
                st.just("/etc/hostname"),
                st.just("/nonexistent/creds.json"),
            ),
            max_size=5,
        )
    )
    world.specs = draw(specs(world))
    return world


@st.composite
def specs(draw: st.DrawFn, world: World) -> list[str]:
    out: list[str] = []
    for pid, reg in world.providers.items():
        known = list(reg.get("models", {}))
        if reg["api"] == "cloudflare-ai-binding":
            known = list(CATALOG.models("cloudflare-workers-ai"))[:40]
        for _ in range(draw(st.integers(1, 3))):
            model = draw(st.one_of(st.sampled_from(known), model_ids) if known else model_ids)
            out.append(f"{pid}/{model}")
        if draw(st.integers(0, 5)) == 0:
            out.append(f"{pid}/")
    for pid in world.settings:
        models = list(CATALOG.models(pid))
        if models:
            out.append(f"{pid}/{draw(st.sampled_from(models))}")
    for _ in range(draw(st.integers(1, 3))):
        pid = draw(st.sampled_from(CATALOG_IDS))
        models = list(CATALOG.models(pid))
        out.append(f"{pid}/{draw(st.sampled_from(models))}")
    out.append(
        draw(
            st.sampled_from(
                ["noslash", "unknown-provider/x", "openai/no-such-model", "/x", "anthropic/", "cf"]
            )
        )
    )
    return out


# -- writing the world out as a tree ----------------------------------------------------


class _Env:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = dict(env)
        self.counter = 0

    def fresh(self) -> str:
        self.counter += 1
        return f"FD_VAR_{self.counter}"


def _jinja_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@st.composite
def templated(draw: st.DrawFn, value: str, env: _Env) -> str:
    """``value`` written literally or as a template that renders to it."""
    choice = draw(st.integers(0, 5))
    if choice == 0 or any(m in value for m in ("{{", "{%", "{#")):
        return value
    name = env.fresh()
    if choice == 1:
        env.env[name] = value
        return f"{{{{ env.{name} }}}}"
    if choice == 2:
        return f"{{{{ env.{name} | default({_jinja_literal(value)}) }}}}"
    if choice == 3:
        env.env[name] = value
        return f"{{{{ env.{name} | default('unused') }}}}"
    if choice == 4:
        cut = draw(st.integers(0, len(value)))
        other = env.fresh()
        env.env[name], env.env[other] = value[:cut], value[cut:]
        return f"{{{{ env.{name} }}}}{{{{ env['{other}'] }}}}"
    env.env[name] = value
    return f"{{{{ env.{name} }}}}"


TEMPLATED = {"baseUrl", "apiKey"}


@st.composite
def written(draw: st.DrawFn, payload: dict[str, Any], env: _Env) -> dict[str, Any]:
    """A payload with its template-able strings possibly turned into templates."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key in TEMPLATED and isinstance(value, str):
            out[key] = draw(templated(value, env))
        elif key == "headers":
            out[key] = {k: draw(templated(v, env)) for k, v in value.items()}
        elif key == "gateway" and isinstance(value, dict):
            gw = dict(value)
            for name in ("id", "cacheKey", "eventId"):
                if name in gw:
                    gw[name] = draw(templated(gw[name], env))
            if "metadata" in gw:
                gw["metadata"] = {
                    k: draw(templated(v, env)) if isinstance(v, str) else v
                    for k, v in gw["metadata"].items()
                }
            out[key] = gw
        else:
            out[key] = value
    return out


# Keys a document of each shape may carry, with a throwaway value: an overlay can set
# them in the base and remove them again with null.
_DECOYS: dict[str, dict[str, Any]] = {
    "Provider": {
        "maxTokens": 7,
        "contextWindow": 9,
        "apiKey": "decoy",
        "headers": {"X-D": "1"},
        "models": {"decoy": {}},
    },
    "Binding": {"gateway": {"id": "decoy"}},
    "ProviderConfiguration": {"storeResponses": True, "headers": {"X-D": "1"}, "apiKey": "d"},
    "ApiProvider": {},
}


@st.composite
def split_overlays(
    draw: st.DrawFn, head: dict[str, Any], payload: dict[str, Any]
) -> list[dict[str, Any]]:
    """Documents (base first, then overlays) whose layering gives ``head`` + ``payload``."""
    keys = [k for k in payload if k != "api"]
    base = dict(payload)
    overlay: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []:
        value = payload[key]
        if isinstance(value, dict) and value and draw(st.booleans()):
            # Maps merge key by key: part in the base, the rest (and a removal) in the overlay.
            names = list(value)
            cut = draw(st.integers(0, len(names)))
            base[key] = {k: value[k] for k in names[:cut]}
            overlay[key] = {k: value[k] for k in names[cut:]}
            if key in ("headers", "models") and draw(st.booleans()):
                base[key]["removed"] = "gone" if key == "headers" else {"maxTokens": 1}
                overlay[key]["removed"] = None
        elif not isinstance(value, dict) and draw(st.booleans()):
            base[key] = _decoy(key, value)  # a scalar the overlay replaces
            overlay[key] = value
        else:
            del base[key]
            overlay[key] = value
    docs = [{**head, **base}]
    if overlay:
        docs.append({**head, "overlay": True, **overlay})
    shape = "Binding" if payload.get("api") == "cloudflare-ai-binding" else head["kind"]
    removable = [k for k in _DECOYS[shape] if k not in payload]
    if draw(st.booleans()) and removable:
        victim = draw(st.sampled_from(removable))
        docs[0][victim] = _DECOYS[shape][victim]
        docs.append({**head, "overlay": True, victim: None})
    return docs


def _decoy(key: str, value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return "https://decoy.example/v1" if key == "baseUrl" else "decoy"
    return None


@st.composite
def trees(draw: st.DrawFn) -> Tree:
    world = draw(worlds())
    env = _Env(world.env)
    groups: list[list[dict[str, Any]]] = []
    expected: dict[str, list[tuple[int, dict[str, Any]]]] = {"api": [], "reg": [], "conf": []}
    entities: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for api, handler in world.apis.items():
        entities.append(("api", {"kind": "ApiProvider", "api": api}, {"handler": handler}))
    for pid, reg in world.providers.items():
        entities.append(("reg", {"kind": "Provider", "id": pid}, reg))
    for pid, settings in world.settings.items():
        entities.append(("conf", {"kind": "ProviderConfiguration", "id": pid}, settings))
    order = draw(st.permutations(range(len(entities))))
    for rank, index in enumerate(order):
        what, head, payload = entities[index]
        docs = draw(split_overlays(head, draw(written(payload, env)) if what != "api" else payload))
        groups.append(docs)
        if what == "api":
            call = {"op": "registerApiProvider", "api": head["api"], **payload}
        elif what == "reg":
            call = {"op": "registerProvider", "id": head["id"], "registration": payload}
        else:
            call = {"op": "configureProvider", "id": head["id"], "settings": payload}
        expected[what].append((rank, call))
    # Lay the documents out in order: each base before its overlays, overlays may come later.
    sequence: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for docs in groups:
        sequence.append(docs[0])
        pending.extend(docs[1:])
        if draw(st.booleans()) and pending:
            sequence.append(pending.pop(0))
    sequence.extend(pending)
    files, layers = draw(layout(sequence))
    calls = [
        call
        for what in ("api", "reg", "conf")
        for _, call in sorted(expected[what], key=lambda x: x[0])
    ]
    return Tree(files, layers, env.env, calls, world.specs)


@st.composite
def layout(draw: st.DrawFn, docs: list[dict[str, Any]]) -> tuple[dict[str, bytes], list[str]]:
    """Spread documents over files (several per file) and 1-3 layer directories."""
    n_layers = draw(st.integers(1, 3))
    layers = [f"layer{i}" for i in range(n_layers)]
    cuts = sorted(
        draw(st.lists(st.integers(0, len(docs)), min_size=n_layers - 1, max_size=n_layers - 1))
    )
    bounds = [0, *cuts, len(docs)]
    files: dict[str, bytes] = {}
    for li, layer in enumerate(layers):
        chunk = docs[bounds[li] : bounds[li + 1]]
        file_docs: list[list[dict[str, Any]]] = []
        for doc in chunk:
            if not file_docs or draw(st.integers(0, 2)) == 0:
                file_docs.append([])
            file_docs[-1].append(doc)
        stems = draw(
            st.lists(
                st.text(alphabet="ABCabc019_-", min_size=1, max_size=6),
                unique=True,
                min_size=len(file_docs),
                max_size=len(file_docs),
            )
        )
        suffixes = draw(
            st.lists(st.sampled_from([".yaml", ".yml"]), min_size=len(stems), max_size=len(stems))
        )
        # Discovery orders whole file names by bytes ("1-.yaml" before "1.yaml").
        names = sorted({s + x for s, x in zip(stems, suffixes, strict=True)}, key=os.fsencode)
        file_docs = _regroup(file_docs, len(names))
        for name, group in zip(names, file_docs, strict=True):
            text = dump(group, flow=draw(st.sampled_from([None, False, True])))
            if draw(st.integers(0, 3)) == 0:
                text = "# generated\n---\n" + text  # leading comment and empty document
            raw = text.encode()
            if draw(st.integers(0, 5)) == 0:
                raw = b"\xef\xbb\xbf" + raw
            files[f"{layer}/{name}"] = raw
        # Files discovery must skip; if read, they would fail to parse.
        junk = draw(
            st.sampled_from(
                [None, ".hidden.yaml", "notes.yaml~", "#x.yaml#", "a.txt", "sub/inner.yaml"]
            )
        )
        if junk:
            files[f"{layer}/{junk}"] = b"{{ not: [valid yaml"
        if not file_docs:
            files.setdefault(f"{layer}/.keep", b"")
    return files, layers


def _regroup(groups: list[list[dict[str, Any]]], n: int) -> list[list[dict[str, Any]]]:
    """Merge trailing groups when two stems collided into one file name ("a.yaml" twice)."""
    while len(groups) > n:
        groups[-2].extend(groups.pop())
    return groups


def dump(docs: list[dict[str, Any]], flow: bool | None) -> str:
    return yaml.safe_dump_all(docs, default_flow_style=flow, sort_keys=False, allow_unicode=True)
