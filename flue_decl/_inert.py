"""Output a reader's machinery will not act on, whatever a configuration file says.

A CI runner obeys the legacy workflow command ``##[...]`` anywhere in a line of the log,
and a terminal obeys C1 and bidirectional controls: text from a file must reach neither
as itself. Human output shows such characters escaped (``cli._reporters.visible``,
``inert_line``); machine output (JSON, SARIF, the artifact, emitted JavaScript) writes them
as escapes its readers decode to the very same text, here.
"""

from __future__ import annotations

import re

# DEL and the C1 controls, the line and paragraph separators, the bidirectional embedding,
# override and isolate controls, and the legacy workflow command's opening.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|##\\[")


def _escaped(match: re.Match[str]) -> str:
    found = match.group()
    return "##\\u005b" if found == "##[" else f"\\u{ord(found):04x}"


def inert_json(text: str) -> str:
    """JSON text (or JavaScript source) with ``##[`` written ``##\\u005b`` and those controls
    as ``\\uXXXX``: the same values to any JSON or JavaScript reader, nothing for a runner
    or a terminal to obey. Only for such text: these can occur only inside its strings
    (and comments, where the escape is shown as written)."""
    return _UNSAFE.sub(_escaped, text) if _UNSAFE.search(text) else text
