"""JSON as JavaScript writes it: what Flue's runtime prints for the same values.

Two differences from Python's ``json`` matter for the same data: a JavaScript object puts
its array-index keys (``"0"``, ``"2"``, ``"10"``) first, in ascending order, then the other
keys in insertion order; and numbers are written by ``Number.prototype.toString``
(``0.000001`` where Python writes ``1e-06``, ``1e+21`` where Python writes ``1e+21``
only from 1e16 on). :func:`js_order` and :func:`dumps` apply both.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_MAX_INDEX = 2**32 - 2  # the largest array index


def is_array_index(key: str) -> bool:
    """Whether a JavaScript object would order ``key`` as an array index."""
    return (
        key.isascii() and key.isdigit() and (key == "0" or key[0] != "0") and int(key) <= _MAX_INDEX
    )


def js_order(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` with its keys in the order a JavaScript object has them."""
    indices = [k for k in mapping if is_array_index(k)]
    if not indices:
        return dict(mapping)
    ordered = {k: mapping[k] for k in sorted(indices, key=int)}
    ordered.update((k, v) for k, v in mapping.items() if k not in ordered)
    return ordered


def number(value: float) -> str:
    """``Number.prototype.toString`` of a finite number (ECMA-262 Number::toString)."""
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    if isinstance(value, int):
        if abs(value) <= 2**53:
            return str(value)
        value = float(value)  # the number JavaScript holds for it
    if value.is_integer() and abs(value) <= 2**53:  # exact: every digit is significant
        return str(int(value))
    if value < 0:
        return "-" + number(-value)
    # repr gives the shortest digits that read back as the same number, as ECMAScript asks.
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    significant = (whole + fraction).lstrip("0")
    n = len(whole) - (len(whole + fraction) - len(significant)) + int(exponent or 0)
    text = significant.rstrip("0") or "0"  # value = 0.<text> * 10^n
    k = len(text)
    if k <= n <= 21:
        return text + "0" * (n - k)
    if 0 < n <= 21:
        return f"{text[:n]}.{text[n:]}"
    if -6 < n <= 0:
        return "0." + "0" * -n + text
    mantissa = text if k == 1 else f"{text[0]}.{text[1:]}"
    return f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _string(text: str) -> str:
    """A JSON string as JSON.stringify writes it: lone surrogates (undecodable bytes of the
    environment, as Python keeps them) escaped, everything else but controls as is."""
    return escape_lone_surrogates(json.dumps(text, ensure_ascii=False))


def escape_lone_surrogates(encoded: str) -> str:
    """JSON text with each lone surrogate written ``\\uXXXX``, as JSON.stringify does: it
    can then be encoded as UTF-8 (a file name's undecodable bytes are held as these)."""
    if encoded.isascii():
        return encoded
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """``JSON.stringify(value, null, indent)`` for JSON-shaped Python data."""
    out: list[str] = []
    _write(value, out, indent, 0)
    return "".join(out)


def _write(value: Any, out: list[str], indent: int | None, level: int) -> None:
    if value is None or isinstance(value, bool):
        out.append("null" if value is None else "true" if value else "false")
    elif isinstance(value, int | float):
        out.append(number(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Mapping | list | tuple):
        items = list(js_order(value).items()) if isinstance(value, Mapping) else list(value)
        opening, closing = ("{", "}") if isinstance(value, Mapping) else ("[", "]")
        if not items:
            out.append(opening + closing)
            return
        inner = "" if indent is None else "\n" + " " * (indent * (level + 1))
        outer = "" if indent is None else "\n" + " " * (indent * level)
        out.append(opening)
        for i, entry in enumerate(items):
            out.append(("," if i else "") + inner)
            if isinstance(value, Mapping):
                key, member = entry
                out.append(_string(str(key)))
                out.append(":" if indent is None else ": ")
                _write(member, out, indent, level + 1)
            else:
                _write(entry, out, indent, level + 1)
        out.append(outer + closing)
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
