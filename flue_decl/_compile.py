"""Stage 6: entities to the ordered registry calls, and rendering of those calls.

Call order is registerApiProvider, then registerProvider, then
configureProvider, each in document order (the place of an entity's first
document). Calls keep templates unrendered and the origin of every field;
:func:`render_calls` turns them into the values a registry is built from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import Diagnostic, JsonPath, Place
from ._lints import credential_paths
from ._registry import Origin
from ._render import Rendered, get_path, is_template, render, templates
from ._secrets import mask_payload
from ._semantic import insecure_transport, transport_diagnostic, transport_owners, url_problem

if TYPE_CHECKING:
    from ._layer import Entity

OPS = {
    "ApiProvider": "registerApiProvider",
    "Provider": "registerProvider",
    "ProviderConfiguration": "configureProvider",
}
_KINDS = {op: kind for kind, op in OPS.items()}
_RANK = {kind: rank for rank, kind in enumerate(OPS)}
_PAYLOAD_KEY = {"registerProvider": "registration", "configureProvider": "settings"}


@dataclass(frozen=True, slots=True)
class Call:
    op: str
    target: str  # provider id, or api slug for registerApiProvider
    payload: Mapping[str, Any]  # registration / settings / {"handler": ...}
    origins: Mapping[JsonPath, Origin]

    @property
    def kind(self) -> str:
        return _KINDS[self.op]

    def to_replay(self, *, show_secrets: bool = False) -> dict[str, Any]:
        """This call in ``replay.mjs``'s input shape."""
        if self.op == "registerApiProvider":
            return {"op": self.op, "api": self.target, **dict(self.payload)}
        payload = dict(self.payload) if show_secrets else mask_payload(self.payload)
        return {"op": self.op, "id": self.target, _PAYLOAD_KEY[self.op]: payload}


def _normalise(value: Any) -> Any:
    # JavaScript has one number type: 8192.0 is 8192.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def compile_entities(entities: Sequence[Entity], layer_roots: Sequence[str]) -> tuple[Call, ...]:
    calls = []
    for entity in sorted(entities, key=lambda e: (_RANK[e.kind], e.order)):
        op = OPS[entity.kind]
        skip = ("kind", "api") if op == "registerApiProvider" else ("kind", "id")
        payload = {k: _normalise(v) for k, v in entity.data.items() if k not in skip}
        origins = {}
        for path, place in entity.places.items():
            doc = entity.setter(path)
            origins[path] = Origin(
                place, doc.layer, layer_roots[doc.layer], doc is not entity.documents[0]
            )
        calls.append(Call(op, entity.key, payload, origins))
    return tuple(calls)


_ENV_REF = re.compile(r"""env\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])""")


def env_names(source: str) -> list[str]:
    """Environment variables a template refers to (for messages that must not show values)."""
    return [a or b for a, b in _ENV_REF.findall(source)]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def render_calls(
    calls: Sequence[Call], env: Mapping[str, str]
) -> tuple[tuple[Call, ...], tuple[Diagnostic, ...]]:
    """Render every template of every call; collect every problem (all missing variables)."""
    rendered: list[Call] = []
    diagnostics: list[Diagnostic] = []
    templated: set[tuple[str, str, JsonPath]] = set()
    results: dict[str, Rendered] = {}  # one environment: the same template, the same result
    for call in calls:
        payload = call.payload  # copied along the path of each rendered value only
        for path, source in templates(call.kind, payload):
            templated.add((call.op, call.target, path))
            result = results.get(source)
            if result is None:
                result = results[source] = render(source, env)
            if result.missing or result.problem is not None:
                place = _place(call, path)
            if result.missing:
                for name in result.missing:
                    diagnostics.append(
                        Diagnostic.at(
                            "missing-env",
                            f"environment variable `{name}` is not set",
                            place,
                            path,
                            hint=f"set {name}, or give a default: "
                            f"{{{{ env.{name} | default('...') }}}}",
                        )
                    )
                continue
            if result.problem is not None:
                diagnostics.append(
                    Diagnostic.at(
                        result.problem.code,
                        result.problem.message,
                        place,
                        path,
                        hint=result.problem.hint,
                    )
                )
                continue
            assert result.value is not None
            payload = _with_value(payload, path, result.value)
            diagnostics.extend(_check_rendered(path, source, result.value, call))
        rendered.append(Call(call.op, call.target, payload, call.origins))
    diagnostics.extend(_rendered_transport(rendered, templated))
    return tuple(rendered), tuple(diagnostics)


def _place(call: Call, path: JsonPath) -> Place | None:
    """Only looked up to report a problem: an artifact's origins are built on first use."""
    origin = call.origins.get(path)
    return origin.place if origin else None


def _check_rendered(path: JsonPath, source: str, value: str, call: Call) -> list[Diagnostic]:
    def names() -> str:
        return ", ".join(f"`{n}`" for n in env_names(source)) or "its template"

    if path == ("baseUrl",):
        problem = url_problem(value)
        if problem is not None:
            return [
                Diagnostic.at(
                    "invalid-url",
                    f"baseUrl rendered from {names()} is invalid: {problem}",
                    _place(call, path),
                    path,
                )
            ]
    elif _has_control(value):
        field = (
            "apiKey"
            if path == ("apiKey",)
            else (f"header `{path[-1]}`" if path[0] == "headers" else "/".join(map(str, path)))
        )
        return [
            Diagnostic.at(
                "invalid-rendered-value",
                f"{field} rendered from {names()} contains a line break or control character",
                _place(call, path),
                path,
                hint="check the variable's value (a trailing newline from a file?)",
            )
        ]
    return []


def _rendered_transport(
    calls: Sequence[Call], templated: set[tuple[str, str, JsonPath]]
) -> list[Diagnostic]:
    # Literal URL/key pairs were checked statically (validate); only pairs
    # where either side came from a template are new information here.
    registered = {c.target: c for c in calls if c.op == "registerProvider"}
    configured = {c.target: c for c in calls if c.op == "configureProvider"}
    out = []
    for provider in dict.fromkeys([*registered, *configured]):
        reg, conf = registered.get(provider), configured.get(provider)
        sides = {"reg": reg, "conf": conf}
        url_side, key_side = transport_owners(
            reg.payload if reg else None, conf.payload if conf else None
        )
        url_call = sides[url_side] if url_side else None
        key_call = sides[key_side] if key_side else None
        if url_call is None or key_call is None:
            continue
        base_url, key = url_call.payload.get("baseUrl"), key_call.payload.get("apiKey")
        from_template = (url_call.op, provider, ("baseUrl",)) in templated or (
            (key_call.op, provider, ("apiKey",)) in templated
        )
        if from_template and isinstance(base_url, str) and key and insecure_transport(base_url):
            out.append(
                transport_diagnostic(
                    url_call.origins[("baseUrl",)].place,
                    key_call.origins[("apiKey",)].place
                    if ("apiKey",) in key_call.origins
                    else None,
                    provider,
                    ("baseUrl",),
                )
            )
    return out


def _with_value(data: Any, path: JsonPath, value: str) -> Any:
    """``data`` with ``value`` at ``path``: the containers along the path are new, the rest
    is shared (calls are never mutated, and rendering touches a few fields of each)."""
    head = path[0]
    out: Any = dict(data) if isinstance(data, Mapping) else list(data)
    out[head] = value if len(path) == 1 else _with_value(data[head], path[1:], value)
    return out


def literal_secrets(calls: Sequence[Call]) -> list[Diagnostic]:
    """Literal (non-template) keys and credentials: an artifact must never carry them."""
    out = []
    for call in calls:
        for path in credential_paths(call.payload):
            value = get_path(call.payload, path)
            if value and not is_template(value):
                origin = call.origins.get(path)
                out.append(
                    Diagnostic.at(
                        "literal-secret",
                        f"{'/'.join(map(str, path))} of `{call.target}` is written literally; the "
                        "compiled artifact cannot carry it",
                        origin.place if origin else None,
                        path,
                        hint="write it as a template, e.g. {{ env.PROVIDER_API_KEY }}",
                    )
                )
    return out
