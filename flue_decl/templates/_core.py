"""What every template path shares: limits, results, markers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

MAX_TEMPLATE_CHARS = 4096
MAX_OUTPUT_CHARS = 65536
MAX_TEMPLATE_NESTING = 20
# Missing variables found per value. Each is found by rendering again with the ones before
# it standing in as empty (as Jinja2 meets them), so a value of hundreds of unset names
# would cost hundreds of renderings; the rest show once these are set.
MAX_MISSING = 32


def is_template(value: object) -> bool:
    """Whether ``value`` is a string with template markup (``{{``, ``{%`` or ``{#``)."""
    # Spelled out rather than any(...) over the markers: called for every string field.
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


class TemplateProblem(NamedTuple):
    """Why a template cannot be used: a diagnostic code, a message without values, a hint."""

    code: str
    message: str
    hint: str | None = None


class Rendered(NamedTuple):
    """A rendered value, or the variables it misses, or the problem that stopped it."""

    value: str | None
    missing: tuple[str, ...] = ()
    problem: TemplateProblem | None = None


NOT_TEXT = TemplateProblem(
    "invalid-rendered-value",
    "the rendered value is not text: a variable holds bytes that are not UTF-8",
    "check the variable's value and the encoding it was written in",
)


def is_text(value: str) -> bool:
    """Whether ``value`` can be sent (Python keeps undecodable environment bytes as lone
    surrogates, which no encoder accepts)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


TOO_LONG = TemplateProblem(
    "invalid-rendered-value", f"the rendered value is longer than {MAX_OUTPUT_CHARS} characters"
)


# A reference to the secret file NAME is looked up as SECRET + NAME: one namespace for the
# renderer, and no environment variable can be named so (a name never holds a NUL).
SECRET = "\x00secret:"


class Namespace(Mapping[str, str]):
    """What templates read: ``env`` names from the environment, ``secret`` names (SECRET +
    NAME) from ``secrets`` (files in a secrets directory, read when first asked for)."""

    __slots__ = ("_env", "_secrets")

    def __init__(self, env: Mapping[str, str], secrets: Mapping[str, str]) -> None:
        self._env, self._secrets = env, secrets

    def __getitem__(self, name: str) -> str:
        if name.startswith(SECRET):
            return self._secrets[name[len(SECRET) :]]
        return self._env[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str) and name.startswith(SECRET):
            return name[len(SECRET) :] in self._secrets
        return name in self._env

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)  # secrets are read by name only, never listed

    def __len__(self) -> int:
        return len(self._env)
