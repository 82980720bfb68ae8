"""Templates rendered, call by call: :func:`render_or_raise` for a registry,
:func:`render_calls` for ``check-env`` and ``diff``, :class:`Rendering` for a registry built
in one pass (``_build``). The transport rule across calls (keys in clear) is checked on
what each rendered call sends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._catalog import builtin_catalog
from .._domain import Call, Op, field_label, place_of, string_fields, with_value
from .._errors import Diagnostic, JsonPath, Place, TemplateError
from .._urls import (
    RENDERED_CONTROL,
    credential_routes,
    sent_in_clear,
    transport_diagnostic,
    url_problem,
)
from ..templates import (
    SECRET,
    Namespace,
    env_names,
    is_credential,
    is_template,
    render,
    secret_names,
)
from ._handlers import custom_api_providers
from ._lines import Calls
from ._secretfiles import SECRETS_DIR_ENV, SecretFiles
from ._stored import StoredOrigins, origins_of, stored_origins


def render_or_raise(
    calls: Sequence[Call], env: Mapping[str, str], secrets: SecretFiles | None = None
) -> tuple[Call, ...]:
    """``calls`` with every template rendered against ``env`` (and ``secrets``); raises
    :class:`TemplateError` with every problem of every call."""
    rendered, problems = render_calls(calls, env, secrets)
    if problems:
        raise TemplateError(sorted(problems, key=Diagnostic.sort_key))
    return rendered


_CONTROL = re.compile(RENDERED_CONTROL)


def render_calls(
    calls: Sequence[Call], env: Mapping[str, str], secrets: SecretFiles | None = None
) -> tuple[tuple[Call, ...], tuple[Diagnostic, ...]]:
    """Every template of every call rendered against ``env`` and the secret files
    (``secrets``, default: the secrets directory's), and every problem found (all missing
    variables and secrets, unusable rendered values, keys that would travel in clear)."""
    rendering = Rendering(calls, env, SecretFiles() if secrets is None else secrets)
    rendered = tuple(rendering)
    return rendered, rendering.finish()


class Rendering:
    """The calls rendered one by one as they are iterated over (once); :meth:`finish`
    then gives every problem, the transport rule's across calls included. While a call is
    being read, :attr:`line` is its artifact line (None for calls not from an artifact)
    and :attr:`values` the rendered values at their paths."""

    def __init__(self, calls: Sequence[Call], env: Mapping[str, str], secrets: SecretFiles):
        self.calls, self.secrets = calls, secrets
        self.names = Namespace(env, secrets)
        self.diagnostics: list[Diagnostic] = []
        # One environment: the same template, the same result. Plain tuples, which the
        # collector stops tracking (a NamedTuple it never does).
        self.results: dict[str, tuple[str | None, tuple[str, ...], Any]] = {}
        self.custom = _custom_api_providers(calls)
        # (op, target) -> what the transport rule reads of the last such call.
        self.slims: dict[tuple[str, str], Slim] = {}
        self.origins: dict[tuple[str, str], StoredOrigins] = {}  # as a registry keeps them
        self.allowed: set[str] = set()  # allowPlainHttp in any call
        self.line: bytes | None = None
        self.values: list[tuple[JsonPath, str]] = []

    def __iter__(self) -> Iterator[Call]:
        calls = self.calls
        lines = calls.with_lines() if isinstance(calls, Calls) else ((c, None) for c in calls)
        for call, line in lines:
            yield self.one(call, line)

    def one(self, call: Call, line: bytes | None) -> Call:
        """``call`` (of the artifact line ``line``, if any) rendered."""
        self.line, self.values = line, []
        rendered = self._render(call)
        if call.op != Op.REGISTER_API_PROVIDER:
            self.keep_for_rule(call, rendered)
        return rendered

    def keep_for_rule(self, call: Call, rendered: Call) -> None:
        """What the transport rule reads of ``call`` (see :meth:`finish`)."""
        key = (call.op.value, call.target)
        self.slims[key] = slim(rendered)
        self.origins[key] = stored_origins(call.origins)
        if call.allow_plain_http:
            self.allowed.add(call.target)

    def render_quietly(self, call: Call) -> Call:
        """``call`` rendered, its problems not reported (they were: see ``_start``)."""
        self.values = []
        return self._render(call, checked=False)

    def result(self, source: str) -> tuple[str | None, tuple[str, ...], Any]:
        """The template ``source`` rendered: its value, or the variables it misses, or
        why its value is refused. Once per environment."""
        result = self.results.get(source)
        if result is None:
            done = render(source, self.names)
            result = self.results[source] = (done.value, done.missing, done.problem)
        return result

    def report(self, call: Call, path: JsonPath, missing: tuple[str, ...], problem: Any) -> None:
        """Why the template at ``path`` of ``call`` did not render."""
        if missing:
            place = place_of(call, path)
            self.diagnostics.extend(_missing(name, place, path, self.secrets) for name in missing)
        else:
            self.diagnostics.append(
                Diagnostic.at(
                    problem.code, problem.message, place_of(call, path), path, hint=problem.hint
                )
            )

    def finish(self) -> tuple[Diagnostic, ...]:
        # Every pair again, literal ones too: an artifact compiled by an older flue-decl,
        # or calls applied without a compile, are held to today's rule.
        views = {op: _Views(op, self.slims) for op in (Op.REGISTER_PROVIDER, Op.CONFIGURE_PROVIDER)}
        for route in credential_routes(
            views[Op.REGISTER_PROVIDER],
            views[Op.CONFIGURE_PROVIDER],
            _fields,
            _credentials,
            _runtime_credential,
        ):
            if route.provider in self.allowed:
                continue
            base_url = _fields(route.url).get("baseUrl")
            if isinstance(base_url, str) and sent_in_clear(base_url):
                self.diagnostics.append(
                    transport_diagnostic(
                        self._place(route.url, ("baseUrl",)),
                        [(self._place(view, path), path) for view, path in route.sent],
                        route.provider,
                        ("baseUrl",),
                        route.runtime_key,
                    )
                )
        return tuple(self.diagnostics)

    def _place(self, view: View, path: JsonPath) -> Place | None:
        origin = origins_of(self.origins[(view[0], view[1])]).get(path)
        return origin.place if origin else None

    def _render(self, call: Call, *, checked: bool = True) -> Call:
        """``call`` rendered; ``checked``: its problems reported (else only rendered)."""
        payload = call.payload  # copied along the path of each rendered value only
        credentials = []
        custom = call.target in self.custom
        diagnostics = self.diagnostics if checked else []
        for path, source in string_fields(call.kind.name, call.payload):
            # One pass: whether the field is a credential is decided from its source.
            if is_credential(path, source):
                credentials.append(path)
            if not is_template(source):
                if path == ("baseUrl",):  # literal: held to today's rule too (see finish)
                    diagnostics.extend(check_rendered(path, source, source, call, custom))
                continue
            value, missing, problem = self.result(source)
            if missing or problem is not None:
                if checked:
                    self.report(call, path, missing, problem)
                continue
            assert value is not None
            payload = with_value(payload, path, value)
            self.values.append((path, value))
            diagnostics.extend(check_rendered(path, source, value, call, custom))
        return Call(
            call.op,
            call.target,
            payload,
            call.origins,
            call.allow_plain_http,
            frozenset(credentials),
        )


def _custom_api_providers(calls: Sequence[Call]) -> dict[str, str]:
    """``custom_api_providers`` of ``calls``; of an artifact's, decoding only the lines
    that may hold an ApiProvider call or name its api."""
    if not isinstance(calls, Calls):
        return custom_api_providers(calls)
    apis = list(calls.of_op(Op.REGISTER_API_PROVIDER))
    if not apis:
        return {}
    needles = [json.dumps(c.target, ensure_ascii=False).encode() for c in apis]
    return custom_api_providers([*apis, *calls.containing(needles)])


def _missing(name: str, place: Place | None, path: JsonPath, secrets: SecretFiles) -> Diagnostic:
    if name.startswith(SECRET):
        file = name[len(SECRET) :]
        return Diagnostic.at(
            "missing-env",
            f"secret `{file}` cannot be read: {secrets.why(file)}",
            place,
            path,
            hint=f"mount it in {secrets.directory} (or set {SECRETS_DIR_ENV}), or give a "
            f"default: {{{{ secret['{file}'] | default('...') }}}}",
        )
    return Diagnostic.at(
        "missing-env",
        f"environment variable `{name}` is not set",
        place,
        path,
        hint=f"set {name}, or give a default: {{{{ {_spelled(name)} | default('...') }}}}",
    )


def _spelled(name: str) -> str:
    """How a template reads the variable ``name``: env.NAME where the grammar allows it."""
    return f"env.{name}" if name.isidentifier() and not name.startswith("_") else f"env['{name}']"


def check_rendered(
    path: JsonPath, source: str, value: str, call: Call, custom_api: bool
) -> list[Diagnostic]:
    def names() -> str:
        named = [*env_names(source), *(f"secret.{n}" for n in secret_names(source))]
        return ", ".join(f"`{n}`" for n in named) or "its template"

    if path == ("baseUrl",):
        problem = url_problem(value, any_scheme=custom_api)
        if problem is not None:
            what = f"baseUrl rendered from {names()}" if is_template(source) else "baseUrl"
            return [
                Diagnostic.at(
                    "invalid-url",
                    f"{what} is invalid: {problem}",
                    place_of(call, path),
                    path,
                )
            ]
    elif _CONTROL.search(value) is not None:
        return [
            Diagnostic.at(
                "invalid-rendered-value",
                f"{field_label(path)} rendered from {names()} contains a line break or "
                "control character",
                place_of(call, path),
                path,
                hint="check the variable's value (a trailing newline from a file?)",
            )
        ]
    return []


# What the transport rule reads of a rendered registration or configuration: its baseUrl,
# apiKey and api (``...`` where absent), whether the first two are credentials, and any
# other credential with its top field as JSON text ``[fields, paths]``. A flat tuple of
# plain values: the collector stops tracking it the first time it looks (a tuple of tuples
# or of a dict it tracks longer, and 10,000 of them promoted to the oldest generation in a
# reload would trigger full collections).
Slim = tuple[Any, Any, Any, bool, bool, Any]
# A slim decoded for the rule: op, target, fields, credential paths.
View = tuple[str, str, Mapping[str, Any], tuple[JsonPath, ...]]
_READ = ("baseUrl", "apiKey", "api")
_KEY, _URL = ("apiKey",), ("baseUrl",)


def slim(call: Call) -> Slim:
    payload = call.payload
    others = sorted((p for p in call.credentials if p not in (_KEY, _URL)), key=repr)
    extra: Any = None
    if others:
        fields = {str(p[0]): payload[str(p[0])] for p in others if str(p[0]) in payload}
        try:
            extra = json.dumps([fields, others], separators=(",", ":"))
        except (TypeError, ValueError):  # not JSON (a call made in code): kept as it is
            extra = (fields, others)
    base_url, api_key, api = (payload.get(key, ...) for key in _READ)
    return (base_url, api_key, api, _KEY in call.credentials, _URL in call.credentials, extra)


class _Views(Mapping[str, View]):
    """The slims of one op by target, each decoded when read."""

    def __init__(self, op: str, slims: Mapping[tuple[str, str], Slim]) -> None:
        self._op, self._slims = op, slims
        self._targets = [target for kind, target in slims if kind == op]

    def __getitem__(self, target: str) -> View:
        base_url, api_key, api, key_sent, url_sent, extra = self._slims[(self._op, target)]
        fields: dict[str, Any] = {}
        paths: list[JsonPath] = [_KEY] if key_sent else []
        if url_sent:
            paths.append(_URL)
        if extra is not None:
            more, other_paths = json.loads(extra) if isinstance(extra, str) else extra
            fields.update(more)
            paths.extend(tuple(path) for path in other_paths)
        for key, value in zip(_READ, (base_url, api_key, api), strict=True):
            if value is not ...:
                fields[key] = value
        return (self._op, target, fields, tuple(paths))

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)


def _fields(view: View) -> Mapping[str, Any]:
    return view[2]


def _credentials(view: View) -> tuple[JsonPath, ...]:
    return view[3]


def _runtime_credential(provider: str, api: str | None, keyed: bool) -> str | None:
    """The catalog's rule, the catalog read only when a provider has a route to check (a
    registry of https providers never reads it: 3 ms of a small load)."""
    return builtin_catalog().runtime_credential(provider, api, keyed)
