"""What every template path shares: limits, results, and ``env`` as templates see it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

MAX_TEMPLATE_CHARS = 4096
MAX_OUTPUT_CHARS = 65536
MAX_TEMPLATE_NESTING = 20

# Filters a configuration value can need; the rest of Jinja's (center, indent, wordwrap,
# format, join ...) can allocate without bound or compute more than a value warrants.
SAFE_FILTERS = ("default", "d", "lower", "upper", "trim", "string", "urlencode", "replace")


def is_template(value: object) -> bool:
    """Whether ``value`` is a string with template markup (``{{``, ``{%`` or ``{#``)."""
    # Spelled out rather than any(...) over the markers: called for every string field.
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """Why a template cannot be used: a diagnostic code, a message without values, a hint."""

    code: str
    message: str
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered value, or the variables it misses, or the problem that stopped it."""

    value: str | None
    missing: tuple[str, ...] = ()
    problem: TemplateProblem | None = None


def too_long() -> Rendered:
    return Rendered(
        None,
        problem=TemplateProblem(
            "template-too-long", f"template output is longer than {MAX_OUTPUT_CHARS} characters"
        ),
    )


_ENV_REF = re.compile(r"""env\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])""")


def env_names(source: str) -> list[str]:
    """Environment variables a template refers to (for messages that must not show values)."""
    return [a or b for a, b in _ENV_REF.findall(source)]


class MissingVariable(Exception):
    """Raised by ``env`` lookups of an unset variable, so all of them can be collected."""

    def __init__(self, name: str) -> None:
        self.name = name


class Env:
    """``env`` inside templates: lookup by name only; it cannot be iterated or printed."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __str__(self) -> str:
        return "<env>"


class Overlay(Mapping[str, str]):
    """``base`` with ``extra`` laid over it; never iterated (``env`` is lookup only)."""

    def __init__(self, base: Mapping[str, str], extra: Mapping[str, str]) -> None:
        self._base, self._extra = base, extra

    def __getitem__(self, key: str) -> str:
        if key in self._extra:
            return self._extra[key]
        return self._base[key]

    def __iter__(self) -> Iterator[str]:
        raise TypeError("env cannot be iterated")

    def __len__(self) -> int:
        return 0
