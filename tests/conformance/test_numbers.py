"""Numbers and key order as JavaScript writes them, asked of node itself."""

from __future__ import annotations

import json
import math
import random
import struct
import subprocess

import pytest

from flue_decl._jsjson import dumps, number
from tests.conformance.oracle import NODE_DIR, unavailable_reason

pytestmark = pytest.mark.conformance

_SCRIPT = (
    "const data = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
    "console.log(JSON.stringify({numbers: data.numbers.map(String),"
    " object: JSON.stringify(data.object)}));"
)


def _floats(count: int) -> list[float]:
    rng = random.Random(20261126)
    out = [0.1, 0.000001, 1e-7, 1e21, 1e20, 123.456, 2.5e-8, 5e-324, 1.7976931348623157e308]
    while len(out) < count:
        if rng.random() < 0.5:  # any bit pattern: every magnitude and digit count
            value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        else:  # the numbers configuration holds: few digits, small exponents
            value = round(rng.uniform(0, 10 ** rng.randint(-9, 24)), rng.randint(0, 12))
        if math.isfinite(value):
            out.append(value)
    return out


def test_numbers_and_key_order_are_written_as_javascript_writes_them() -> None:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    floats = _floats(5000)
    integers = [0, 7, 2**53, 2**53 + 1, 10**21, -(10**22), 9007199254740993]
    obj = {"b": 1, "10": 2, "2": 3, "a": 0.000001, "01": 4, "4294967295": 5, "4294967294": 6}
    out = subprocess.run(
        ["node", "-e", _SCRIPT],
        input=json.dumps({"numbers": [*floats, *integers], "object": obj}),
        capture_output=True,
        text=True,
        check=True,
        cwd=NODE_DIR,
        timeout=60,
    )
    answer = json.loads(out.stdout)
    values: list[float] = [*floats, *integers]
    mismatches = [
        (v, number(v), j) for v, j in zip(values, answer["numbers"], strict=True) if number(v) != j
    ]
    assert not mismatches[:5]
    assert dumps(obj, indent=None) == answer["object"]
