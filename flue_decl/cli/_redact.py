"""What an echoed source line may show: credential values masked by their key's name on
the line, URLs' userinfo and credential parameters, and a diagnostic that points at a
credential's value shows nothing from its column on (the value may stand on a line of its
own)."""

from __future__ import annotations

import re

from .._errors import Diagnostic
from .._secrets import is_credential_name, mask_url, scrub

# `name: value` in a YAML line (block or flow style, quoted or not), `name = value` in a
# TOML one (the settings file's lines are echoed too).
_NAMED_VALUE = re.compile(
    r"""(?x)
    ( (?:^|[\s{,]) ["']? ([\w.-]+) ["']? \s*[:=]\s* )
    ( "(?:[^"\\]|\\.)*" | '[^']*' | \[[^\]]*\]? | [^,}\s#{\[][^,}#]* )
    """
)
# A URL anywhere in the line: its userinfo and credential parameters are masked whatever
# key holds it (a baseUrl is not a credential name, its `?api_key=` is).
_URL = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s"'`<>]+""")


def redact_line(line: str) -> str:
    """The line with the value of every credential-named key replaced, unless it is a
    template (the names are the ones whose values flue-decl holds as secrets), and every
    URL's userinfo and credential parameters masked."""

    def mask(match: re.Match[str]) -> str:
        value = match.group(3)
        if not is_credential_name(match.group(2)) or "{{" in value or not value.strip("\"' "):
            return match.group(0)
        return match.group(1) + "***" + value[len(value.rstrip()) :]  # keep the spacing

    return scrub(_URL.sub(lambda url: mask_url(url.group()), _NAMED_VALUE.sub(mask, line)))


_LAST_NAME = re.compile(r"""(?:\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\])$""")


def at_credential(diag: Diagnostic) -> bool:
    """Whether a diagnostic points at a credential's value (``apiKey``, a credential
    header): its path's last name says."""
    found = _LAST_NAME.search(diag.path or "")
    name = (found.group(1) or found.group(2)) if found else None
    return name is not None and (name == "apiKey" or is_credential_name(name))
