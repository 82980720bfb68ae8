"""Which fields hold templates, the static check, and rendering, each choosing its path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._domain import string_fields
from .._errors import JsonPath
from ._core import MAX_TEMPLATE_CHARS, Rendered, TemplateProblem, is_template
from ._fast import render_simple, simple_parts


def templated_fields(kind: str, data: Mapping[str, Any]) -> list[tuple[JsonPath, str]]:
    """``(path, source)`` of every field of a ``kind`` document's ``data`` holding a template."""
    return [(path, v) for path, v in string_fields(kind, data) if is_template(v)]


def check_syntax(source: str) -> TemplateProblem | None:
    """Static check for ``validate``: syntax and variables, no environment needed."""
    if len(source) > MAX_TEMPLATE_CHARS:
        return TemplateProblem(
            "template-too-long", f"template is longer than {MAX_TEMPLATE_CHARS} characters"
        )
    if simple_parts(source) is not None:
        return None  # env lookups and defaults only: nothing for Jinja to check
    from . import _jinja  # only now: most configurations never need Jinja

    return _jinja.check(source)


def render(source: str, env: Mapping[str, str]) -> Rendered:
    """``source`` rendered against ``env``, with every missing variable collected."""
    if not is_template(source):
        return Rendered(source)
    if len(source) <= MAX_TEMPLATE_CHARS:
        parts = simple_parts(source)
        if parts is not None:
            return render_simple(parts, env)
    from . import _jinja

    return _jinja.render(source, env)
