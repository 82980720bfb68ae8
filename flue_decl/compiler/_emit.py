"""The compiled calls as an ES module for Flue apps: one reviewed providers.d drives the
Python services and the TypeScript agents alike.

The module imports ``configureProvider``, ``registerProvider`` and ``registerApiProvider``
from ``@flue/runtime`` and exports ``applyProviders(options)``, which renders every
template against ``options.env`` (and ``options.secrets``), throws one ``Error`` listing
every missing variable with its YAML file:line, applies the calls in flue-decl's order and
returns them in ``replay.mjs``'s input shape. Templates are compiled to JavaScript with the
Python renderer's semantics (the closed grammar of ``flue_decl.templates``); the module
holds no rendered value and no secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from .._catalog import builtin_catalog
from .._domain import ALLOW_PLAIN_HTTP, Call, Op, field_label
from .._inert import inert_json
from .._jsjson import dumps
from .._secrets import (
    CREDENTIAL_WORDS,
    DESCRIBING_WORDS,
    MASK,
    PATH_PARAMETER,
    QUANTITY_WORDS,
    USERINFO,
    WORD_BOUNDARY,
)
from .._urls import (
    CLEAR_PROTOCOLS,
    LOOPBACK_HOST,
    RENDERED_CONTROL,
    URL_AUTHORITY,
    URL_REFUSED_CHARS,
)
from .._version import __version__
from ..templates import MAX_OUTPUT_CHARS, SECRET, credential_paths, is_template
from ..templates._core import MAX_MISSING, TemplateProblem
from ..templates._grammar import parse
from ..templates._syntax import CONCAT, DEFAULT, DEFINED, FILTERED, IF, REF, TEXT, Node

TARGETS = ("flue-js", "flue-ts")


def _js(value: Any) -> str:
    return dumps(value, indent=None)


def _expression(node: Node) -> str:
    """``node`` as a JavaScript expression over the render context ``$``: a string, or
    ``$.U`` wrapped around the name of an undefined variable."""
    tag = node[0]
    if tag == TEXT:
        return _js(node[1])
    if tag == REF:
        return f"$.get({_js(node[1])})"
    if tag == CONCAT:
        return f"$.concat([{', '.join(_expression(p) for p in node[1])}])"
    if tag == IF:
        _, condition, then, otherwise = node
        if condition[0] == DEFINED:
            test = f"{'!' if condition[2] else ''}$.defined({_js(condition[1])})"
        else:
            test = f"$.truthy({_expression(condition)})"
        return f"({test} ? {_expression(then)} : {_expression(otherwise)})"
    if tag == FILTERED:
        out = _expression(node[1])
        for name, args, replace_empty in node[2]:
            listed = ", ".join(_expression(a) for a in args)
            if name == DEFAULT:
                out = f"$.dflt({out}, [{listed}], {'true' if replace_empty else 'false'})"
            else:
                out = f"$.{name}({out}, [{listed}])"
        return out
    raise TypeError(f"not a value: {node!r}")


def _template(source: str) -> str:
    """The JavaScript function that renders ``source`` (a checked template)."""
    parsed = parse(source)
    if isinstance(parsed, TemplateProblem):  # compile refuses such trees first
        raise ValueError(parsed.message)
    parts = ", ".join(f"$.text({_expression(p)})" for p in parsed)
    return f"($) => [{parts}]"


def _value(call: Call, path: tuple[Any, ...], value: Any, where: str, custom: bool) -> str:
    """A payload value as JavaScript: a literal, or a render of its template (checked as
    flue-decl checks rendered values: a URL for baseUrl, no control character elsewhere)."""
    if isinstance(value, str) and is_template(value):
        url = ', "any"' if custom else ', "http"'
        check = url if path == ("baseUrl",) else ""
        return f"$render({_template(value)}, {_js(where)}, {_js(field_label(path))}{check})"
    if isinstance(value, dict):
        items = ", ".join(
            f"{_key(str(k))}: {_value(call, (*path, k), v, _where(call, (*path, k)), custom)}"
            for k, v in value.items()
        )
        return "{" + items + "}"
    return _js(value)


def _runtime_key(call: Call, calls: Sequence[Call]) -> dict[str, str | None] | None:
    """What Flue's runtime sends by itself for ``call``'s provider, with no key and with
    one (see ``Catalog.runtime_credential``)."""
    if call.op == Op.REGISTER_API_PROVIDER:
        return None
    registration = next(
        (c for c in calls if c.op == Op.REGISTER_PROVIDER and c.target == call.target), None
    )
    api = registration.payload.get("api") if registration is not None else None
    api = api if isinstance(api, str) else None
    catalog = builtin_catalog()
    found = {
        "unkeyed": catalog.runtime_credential(call.target, api),
        "keyed": catalog.runtime_credential(call.target, api, keyed=True),
    }
    return found if any(found.values()) else None


def _key(name: str) -> str:
    # In an object literal `"__proto__": v` sets the prototype; a computed key makes the
    # own property JSON.parse (and so the runtime, given replay's input) would have.
    return f"[{_js(name)}]" if name == "__proto__" else _js(name)


def _where(call: Call, path: tuple[Any, ...]) -> str:
    origin = call.origins.get(path) or call.origins.get(())
    return f"{origin.place.file}:{origin.place.line}" if origin else call.target


def module_text(
    calls: Sequence[Call],
    *,
    target: str,
    files: Sequence[tuple[str, str]],
) -> str:
    """The ES module (``flue-js``) or TypeScript module (``flue-ts``) for ``calls``."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: {', '.join(TARGETS)}")
    typed = target == "flue-ts"
    lines = [
        "// Generated by flue-decl "
        f"{__version__} from the files below. Do not edit: change the YAML and emit again.",
        # ASCII-escaped: a file name holds any character, a newline or U+2028 included,
        # and must not end the comment.
        *(f"//   {json.dumps(path)}  sha256:{sha}" for path, sha in files),
        "",
        'import { configureProvider, registerProvider, registerApiProvider } from "@flue/runtime";',
    ]
    if typed:
        lines.append(
            "import type {\n  HttpProviderRegistration,\n  ProviderConfiguration,\n"
            '  ProviderRegistration,\n} from "@flue/runtime";'
        )
    lines += ["", _runtime(typed).strip(), ""]
    if typed:
        lines += [_TS_TYPES]
    body = []
    declared = {c.target for c in calls if c.op == Op.REGISTER_API_PROVIDER}
    custom = {
        c.target for c in calls if c.op == Op.REGISTER_PROVIDER and c.payload.get("api") in declared
    }
    for call in calls:
        where = _where(call, ())
        facts = {
            "credentials": [list(p) for p in credential_paths(call.kind.name, call.payload)],
            "allowPlainHttp": call.allow_plain_http,
            "runtimeKey": _runtime_key(call, calls),
        }
        body.append(f"  $facts.push({_js(facts)});")
        if call.op == Op.REGISTER_API_PROVIDER:
            handler = call.payload.get("handler")
            body.append(
                f'  calls.push({{ op: "registerApiProvider", api: {_js(call.target)}, '
                f"handler: {_js(handler)} }});"
                f"  $where.push({_js(where)});"
            )
            continue
        key = call.kind.payload_key
        payload = {k: v for k, v in call.payload.items() if k != ALLOW_PLAIN_HTTP}
        rendered = _value(call, (), payload, where, call.target in custom)
        body.append(
            f"  calls.push({{ op: {_js(call.op.value)}, id: {_js(call.target)}, "
            f"{key}: {rendered} }});  $where.push({_js(where)});"
        )
    signature = (
        "export function applyProviders(options: ApplyOptions = {}): AppliedCall[] {"
        if typed
        else "export function applyProviders(options = {}) {"
    )
    lines += [
        signature,
        "  const { $render, $finish, $facts, calls, $where } = $start"
        + ("<AppliedCall>" if typed else "")
        + "(options);",
        *body,
        "  return $finish(",
        "    calls,",
        "    $where,",
        "    { registerProvider, configureProvider, registerApiProvider },",
        "    $facts,",
        "  );",
        "}",
        "",
    ]
    # A file name in the header or a value in a string literal: nothing for a CI log that
    # prints the module to obey (the same JavaScript, see flue_decl._inert).
    return inert_json("\n".join(lines))


def _runtime(typed: bool = False) -> str:
    """The renderer and the applier every emitted module carries: ``emit_runtime.ts`` for
    TypeScript, ``emit_runtime.js`` (the same with the types stripped) otherwise, after the
    two constants they declare."""
    name = "emit_runtime.ts" if typed else "emit_runtime.js"
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    constants = "".join(
        f"const {name}{': ' + kind if typed else ''} = {_js(value)};\n"
        for name, (kind, value) in CONSTANTS.items()
    )
    for name, (kind, _) in CONSTANTS.items():  # tsc has already dropped them from the .js
        text = text.replace(f"declare const {name}: {kind};\n", "", 1)
    return constants + text


# The module's rules, as flue-decl's Python has them: each written once, in Python.
CONSTANTS: dict[str, tuple[str, Any]] = {
    "MAX_OUTPUT": ("number", MAX_OUTPUT_CHARS),
    "MAX_MISSING": ("number", MAX_MISSING),
    "SECRET": ("string", SECRET),
    "CREDENTIAL_WORDS": ("string[]", sorted(CREDENTIAL_WORDS)),
    "DESCRIBING_WORDS": ("string[]", sorted(DESCRIBING_WORDS)),
    "QUANTITY_WORDS": ("string[]", sorted(QUANTITY_WORDS)),
    "WORD_BOUNDARY": ("string", WORD_BOUNDARY),
    "PATH_PARAMETER": ("string", PATH_PARAMETER),
    "USERINFO": ("string", USERINFO),
    "MASK": ("string", MASK),
    "URL_REFUSED_CHARS": ("string", URL_REFUSED_CHARS),
    "RENDERED_CONTROL": ("string", RENDERED_CONTROL),
    "URL_AUTHORITY": ("string", URL_AUTHORITY),
    "LOOPBACK_HOST": ("string", LOOPBACK_HOST),
    "CLEAR_PROTOCOLS": ("string[]", list(CLEAR_PROTOCOLS)),
}


# What a TypeScript app gets: the options and the returned calls, typed with Flue's types.
_TS_TYPES = """\
type CloudflareRegistration = Extract<ProviderRegistration, { api: "cloudflare-ai-binding" }>;
/** An ApiProvider object, as registerApiProvider takes it. */
export type ApiProvider = Parameters<typeof registerApiProvider>[0];
export interface ApplyOptions {
  /** The variables templates read (default: process.env; in a Worker, its env). */
  env?: Record<string, unknown>;
  /** Secret files' contents by name, for secret.NAME templates. */
  secrets?: Record<string, string>;
  /** Binding objects by name (default: env, so env.AI is found in a Worker). */
  bindings?: Record<string, unknown>;
  /** The ApiProvider object of every declared api slug. */
  apiProviders?: Record<string, ApiProvider>;
}
/** A call as applied, in replay.mjs's shape: a binding given by its name. */
export type AppliedCall =
  | { op: "registerApiProvider"; api: string; handler: string }
  | {
      op: "registerProvider";
      id: string;
      registration:
        | HttpProviderRegistration
        | (Omit<CloudflareRegistration, "binding"> & { binding: string });
    }
  | { op: "configureProvider"; id: string; settings: ProviderConfiguration };
"""
