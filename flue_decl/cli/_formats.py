"""Output formats of the commands, by name: one function per format of each command, from
the command's result to its text. (``validate`` and ``check-env`` print diagnostics
through the reporters of ``_reporters``, selected the same way.)

Light on purpose: the parser reads the format names here before any command runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from .._inert import inert_json
from .._jsjson import dumps
from .._secrets import MASK, Secret
from ._reporters import inert_line, visible

if TYPE_CHECKING:
    from ..runtime._probe import ProbeResult
    from ..views import Diff, Row

T = TypeVar("T")
Formats = dict[str, Callable[[T], str]]


def inert(lines: Sequence[str]) -> str:
    """Lines for a terminal or a CI log, whatever the configuration holds: control
    characters (a newline inside a value too) made visible, so a value cannot drive the
    terminal or start a line of its own, and no line that a CI runner would take for a
    workflow command (`::error::...`)."""
    return "\n".join(inert_line(visible(line)) for line in lines)


def as_json(data: Any) -> str:
    """JSON as Flue's runtime writes it (key order, number spelling); secrets as ``***``;
    nothing a CI runner or a terminal would obey (``flue_decl._inert``)."""
    return inert_json(dumps(_shown(data)))


def _shown(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    raise TypeError(f"cannot serialise {type(value).__name__}")


# -- diff -------------------------------------------------------------------------------


def _groups(diff: Diff) -> list[tuple[str, dict[str, tuple[Any, Any]]]]:
    """Changed models, with a provider's models folded into one line when they changed alike."""
    by_provider: dict[str, list[str]] = {}
    for spec in diff.changed:
        by_provider.setdefault(spec.split("/", 1)[0], []).append(spec)
    out: list[tuple[str, dict[str, tuple[Any, Any]]]] = []
    for provider, specs in by_provider.items():
        first = diff.changed[specs[0]]
        alike = {k: v for k, v in first.items() if k not in ("id", "name")}
        if len(specs) > 2 and all(
            {k: v for k, v in diff.changed[s].items() if k not in ("id", "name")} == alike
            for s in specs
        ):
            out.append((f"{provider} ({len(specs)} models)", alike))
        else:
            out.extend((spec, diff.changed[spec]) for spec in specs)
    return out


def _fmt(value: Any) -> str:
    if value is None:
        return "(unset)"
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def diff_text(diff: Diff) -> str:
    if diff.equal:
        return "no effective change"
    lines: list[str] = []
    providers_added, providers_removed = diff.providers()
    lines += [f"+ provider {p}" for p in providers_added]
    lines += [f"- provider {p}" for p in providers_removed]
    lines += [f"+ {s}" for s in diff.added]
    lines += [f"- {s}" for s in diff.removed]
    for label, fields in _groups(diff):
        lines.append(f"~ {label}")
        lines += [f"    {name}: {_fmt(a)} → {_fmt(b)}" for name, (a, b) in fields.items()]
    return inert(lines)


def diff_markdown(diff: Diff) -> str:
    if diff.equal:
        return "**flue-decl:** no effective change to the provider registry."
    out = ["### flue-decl: provider registry changes", ""]
    providers_added, providers_removed = diff.providers()
    for title, items in (
        ("Providers added", providers_added),
        ("Providers removed", providers_removed),
        ("Models added", list(diff.added)),
        ("Models removed", list(diff.removed)),
    ):
        if items:
            out.append(f"**{title}:** " + ", ".join(_code(i) for i in items))
            out.append("")
    rows = [
        (label, name, a, b) for label, fields in _groups(diff) for name, (a, b) in fields.items()
    ]
    if rows:
        out += ["| model | field | before | after |", "| --- | --- | --- | --- |"]

        def cell(text: str) -> str:
            # GFM reads `|` as a cell's end even inside a code span, unless escaped.
            return _code(text).replace("|", "\\|")

        out += [
            f"| {cell(label)} | {cell(name)} | {cell(_fmt(a))} | {cell(_fmt(b))} |"
            for label, name, a, b in rows
        ]
    return inert(out)


def _code(text: str) -> str:
    """``text`` as one Markdown code span, whatever it holds: fenced by one backtick more
    than its longest run of them (CommonMark), so no backtick, HTML or link in a value can
    leave the span and become part of the page."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def diff_json(diff: Diff) -> str:
    providers_added, providers_removed = diff.providers()
    changed = [
        {"spec": spec, "changes": {k: {"old": a, "new": b} for k, (a, b) in fields.items()}}
        for spec, fields in diff.changed.items()
    ]
    data = {
        "equal": diff.equal,
        "providers": {"added": providers_added, "removed": providers_removed},
        "models": {"added": list(diff.added), "removed": list(diff.removed)},
        "changed": changed,
    }
    return as_json(data)


DIFF_FORMATS: Formats[Diff] = {"text": diff_text, "json": diff_json, "markdown": diff_markdown}


# -- list -------------------------------------------------------------------------------

Listing = tuple[list[dict[str, Any]], str]  # the entries, and the closing line


def list_text(listing: Listing) -> str:
    entries, closing = listing
    lines = []
    for entry in entries:
        if entry["kind"] == "api":
            lines.append(f"api {entry['id']}  (protocol {entry['handler']})  {entry['source']}")
            continue
        lines.append(
            f"{entry['id']}  [{entry['kind']}, {entry['api']}]  {entry['baseUrl'] or '-'}"
            f"  {entry['source']}"
        )
        store = ", storeResponses" if entry["storeResponses"] else ""
        if entry["kind"].endswith("built-in"):
            lines.append(f"    {len(entry['models'])} catalog models{store}")
        elif "binding" in entry:
            lines.append(
                f"    any Workers AI model ID (catalog metadata when known), binding "
                f"{entry['binding']}{store}"
            )
        else:
            rows = [("(any other)", entry["defaults"]), *entry["models"].items()]
            width = max(len(name) for name, _ in rows)
            lines += [
                f"    {name:<{width}}  context {limits['contextWindow']:>8}"
                f"  max output {limits['maxTokens']:>6}"
                for name, limits in rows
            ]
            if store:
                lines.append(f"    {store[2:]}")
    lines += ["", closing]
    return inert(lines)


def list_json(listing: Listing) -> str:
    return as_json({"providers": listing[0]})


LIST_FORMATS: Formats[Listing] = {"text": list_text, "json": list_json}


def models_text(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "no models (name a provider with --provider, or add --catalog)"
    width = max(len(r["spec"]) for r in rows)
    lines = [
        f"{r['spec']:<{width}}  context {_limit(r['contextWindow']):>8}"
        f"  max output {_limit(r['maxTokens']):>6}  {r['source']}"
        for r in rows
    ]
    return inert(lines)


def _limit(value: Any) -> str:
    return "-" if value is None else str(value)


def models_json(rows: Sequence[dict[str, Any]]) -> str:
    return as_json({"models": list(rows)})


MODEL_FORMATS: Formats[Sequence[dict[str, Any]]] = {"text": models_text, "json": models_json}


# -- explain ----------------------------------------------------------------------------

Explained = tuple[str, Sequence["Row"]]  # the specifier, and its rows


def explain_text(explained: Explained) -> str:
    spec, rows = explained
    lines = [spec]
    width = max(len(r.field) for r in rows)
    # Values whole, wrapped to the terminal (a header value is often longer than a line).
    import shutil  # here: only this table asks (2 ms)

    room = max(40, shutil.get_terminal_size((100, 24)).columns - width - 4)
    for row in rows:
        value = json.dumps(row.value, ensure_ascii=False)
        pieces = [value[i : i + room] for i in range(0, len(value), room)] or [value]
        lines.append(f"  {row.field:<{width}}  {pieces[0]}")
        lines += [f"  {'':<{width}}  {piece}" for piece in pieces[1:]]
        where = f"  [{row.where()}]" if row.origin else ""
        lines.append(f"  {'':<{width}}    ← {row.source}{where}")
    return inert(lines)


def explain_json(explained: Explained) -> str:
    spec, rows = explained
    return as_json({"spec": spec, "fields": [row.to_json() for row in rows]})


EXPLAIN_FORMATS: Formats[Explained] = {"text": explain_text, "json": explain_json}


# -- probe ------------------------------------------------------------------------------


def probe_text(results: Sequence[ProbeResult]) -> str:
    width = max((len(r.provider) for r in results), default=8)
    lines = []
    for r in results:
        latency = f"{r.latency_ms:>8.1f} ms" if r.latency_ms is not None else " " * 11
        detail = r.detail
        if r.note == "unauthenticated-endpoint":
            detail += " (answers without a key too: the key was not checked)"
        lines.append(
            f"{r.provider:<{width}}  {r.status:<13} {latency}  {detail}"
            + (f"  {r.url}" if r.url else "")
        )
    lines.append(probe_summary(results))
    return inert(lines)


def probe_summary(results: Sequence[ProbeResult]) -> str:
    """``2/3 probed providers ok, 1 skipped``: skipped providers are neither ok nor failed."""
    probed = [r for r in results if r.probed]
    skipped = len(results) - len(probed)
    if not results:
        return "no providers to probe"
    ok = sum(r.ok for r in probed)
    unchecked = sum(r.ok and r.note is not None for r in probed)
    return (
        f"{ok}/{len(probed)} probed providers ok"
        + (f" ({unchecked} without checking the key)" if unchecked else "")
        + (f", {skipped} skipped" if skipped else "")
    )


def probe_json(results: Sequence[ProbeResult]) -> str:
    return as_json(
        {
            "ok": all(r.ok for r in results if r.probed),
            "summary": probe_summary(results),
            "providers": [asdict(r) for r in results],
        }
    )


PROBE_FORMATS: Formats[Sequence[ProbeResult]] = {"text": probe_text, "json": probe_json}
