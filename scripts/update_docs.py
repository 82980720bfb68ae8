"""Regenerate the parts of docs/ that come from code (``make docs``): the table of diagnostic
codes in docs/checks.md, from the rule table (``flue_decl._codes.RULES``), and the table of
settings keys in docs/settings.md, from ``flue_decl._settingkeys.KEYS``. A test fails when
either is out of date."""

from __future__ import annotations

import json
from pathlib import Path

from flue_decl._codes import RULES
from flue_decl._errors import Severity
from flue_decl._settingkeys import KEYS

DOCS = Path(__file__).resolve().parent.parent / "docs"
# Each generated part sits between these markers: (file, name) -> the text generated.
START, END = "<!-- generated: {name} -->", "<!-- end: {name} -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def codes_table() -> str:
    rows = [
        "| code | severity | can be silenced | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for rule in RULES.values():
        silenced = "no" if rule.severity is Severity.ERROR else "yes"
        rows.append(
            f"| `{rule.code}` | {rule.severity.value} | {silenced} | {_cell(rule.summary)} |"
        )
    return "\n".join(rows) + "\n"


def settings_table() -> str:
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    for name, key in KEYS.items():
        default = key.default
        if isinstance(default, frozenset | tuple):
            default = sorted(default) if isinstance(default, frozenset) else list(default)
        shown = "unset" if default is None else f"`{json.dumps(default)}`"
        if name == "per-file-ignores":
            shown = "`{}`"
        rows.append(f"| `{name}` | {shown} | {_cell(key.help)} |")
    return "\n".join(rows) + "\n"


GENERATED = {
    ("checks.md", "codes"): codes_table,
    ("settings.md", "keys"): settings_table,
}


def updated(text: str, name: str, body: str) -> str:
    """``text`` with the part called ``name`` replaced by ``body``."""
    start, end = START.format(name=name), END.format(name=name)
    head, found, rest = text.partition(start + "\n")
    if not found or end not in rest:
        raise SystemExit(f"markers {start} ... {end} not found")
    return head + start + "\n" + body + end + rest.split(end, 1)[1]


def main() -> None:
    for (file, name), make in GENERATED.items():
        path = DOCS / file
        path.write_text(updated(path.read_text(encoding="utf-8"), name, make()))
        print(f"wrote the {name} table of {path}")


if __name__ == "__main__":
    main()
