"""Which fields hold templates, the static check, and rendering, each choosing its path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from .._domain import string_fields
from .._errors import JsonPath
from .._memo import TREE_SIZED, memo
from .._secrets import is_credential_name, secret_kind, url_credentials
from ._core import (
    MAX_TEMPLATE_CHARS,
    NOT_TEXT,
    SECRET,
    Rendered,
    TemplateProblem,
    is_template,
    is_text,
)
from ._evaluate import evaluate
from ._fast import quick_parts, render_simple, simple_parts
from ._grammar import parse
from ._syntax import DEFINED, REF, TEXT, each_node


class Reference(NamedTuple):
    """What a template reads: an environment variable (``env``) or a secret file
    (``secret``), by name."""

    kind: str
    name: str

    @property
    def key(self) -> str:
        """How the renderer looks it up (a secret file under ``SECRET``)."""
        return SECRET + self.name if self.kind == "secret" else self.name


def references(source: str) -> tuple[Reference, ...]:
    """Every variable and secret file ``source`` reads (its values or, in ``is defined``,
    whether they are set), in order, once each: taken from the template's parse, never
    from a pattern over its text, so ``https://secret.example.com/{{ env.REGION }}`` reads
    ``env.REGION`` alone. Text that is not a template of the language reads nothing (the
    check reports it)."""
    return tuple(Reference(kind, name) for kind, name in _references(source))


# A tree repeats its templates and a service re-renders them. Cached as plain tuples of
# strings, which CPython's cyclic collector stops tracking (see templates._syntax).
@memo(TREE_SIZED)
def _references(source: str) -> tuple[tuple[str, str], ...]:
    parsed = parse(source) if is_template(source) else None
    if parsed is None or isinstance(parsed, TemplateProblem):
        return ()
    found: dict[tuple[str, str], None] = {}
    for node in each_node(parsed):
        if node[0] == REF or node[0] == DEFINED:
            name: str = node[1]
            if name.startswith(SECRET):
                found[("secret", name[len(SECRET) :])] = None
            else:
                found[("env", name)] = None
    return tuple(found)


def env_names(source: str) -> list[str]:
    """Environment variables a template reads (for messages that must not show values)."""
    return [r.name for r in references(source) if r.kind == "env"]


def secret_names(source: str) -> list[str]:
    """Secret files (``secret.NAME``) a template reads."""
    return [r.name for r in references(source) if r.kind == "secret"]


def templated_fields(kind: str, data: Mapping[str, Any]) -> list[tuple[JsonPath, str]]:
    """``(path, source)`` of every field of a ``kind`` document's ``data`` holding a template."""
    return [(path, v) for path, v in string_fields(kind, data) if is_template(v)]


def credential_paths(kind: str, data: Mapping[str, Any]) -> list[JsonPath]:
    """Paths of the fields of a ``kind`` document's ``data`` that hold a credential, the one
    notion the transport rule, masking, lints and clients share:

    - ``apiKey``;
    - a header named like a credential (its words include one of ``CREDENTIAL_WORDS``:
      ``Authorization``, ``X-Api-Key``, ``Ocp-Apim-Subscription-Key``, not ``X-Max-Tokens``);
    - any field whose template reads a secret file (``secret.NAME``) or a variable named
      like a secret (``OPENAI_API_KEY``, ``DB_PASSWORD``, ``SESSION_TOKEN``).

    A ``baseUrl`` may also carry credentials in its query (``?key=...``): see
    ``url_credentials``; the rest of such a URL is not secret.
    """
    return [path for path, value in string_fields(kind, data) if is_credential(path, value)]


def is_credential(path: JsonPath, value: Any) -> bool:
    """Whether the field at ``path`` holding ``value`` is a credential (see
    :func:`credential_paths`): the key and credential-named headers whatever the value's
    type, any other string that is a template reading a secret."""
    return (
        path == ("apiKey",)
        or (len(path) == 2 and path[0] == "headers" and is_credential_name(str(path[1])))
        or (isinstance(value, str) and is_template(value) and _reads_a_secret(value))
    )


@memo(TREE_SIZED)  # a tree repeats its templates; a service re-renders them
def _reads_a_secret(source: str) -> bool:
    return bool(secret_names(source)) or any(map(is_credential_name, env_names(source)))


def literal_texts(source: str) -> list[str]:
    """The literal strings of a template (its text around expressions, quoted strings,
    defaults): where a key written into a template would sit."""
    parsed = parse(source)
    if isinstance(parsed, TemplateProblem):
        return []
    return [node[1] for node in each_node(parsed) if node[0] == TEXT and node[1]]


def literal_key_in(path: JsonPath, source: str) -> str | None:
    """What a key written into the template ``source`` at ``path`` looks like (``{{
    'sk-...' }}``, a default that looks like a key), or None. A base URL's own text
    (``https://gateway.corp.example.com/``) is long and varied without being a key: there
    only known key shapes count."""
    by_entropy = path != ("baseUrl",)
    for text in literal_texts(source):
        kind = secret_kind(text, by_entropy=by_entropy)
        if kind:
            return kind
    return None


def credential_carriers(kind: str, data: Mapping[str, Any]) -> list[JsonPath]:
    """:func:`credential_paths`, and ``baseUrl`` if its query carries a credential."""
    paths = credential_paths(kind, data)
    url = data.get("baseUrl")
    if isinstance(url, str) and ("baseUrl",) not in paths and url_credentials(url):
        paths.append(("baseUrl",))
    return paths


def check_syntax(source: str) -> TemplateProblem | None:
    """Whether ``source`` is a template of the language (see ``_grammar``): None if it is,
    else why not. A template this accepts can then fail to render only for a missing
    variable or a value that is not usable (too long, a control character)."""
    if len(source) > MAX_TEMPLATE_CHARS:
        return TemplateProblem(
            "template-too-long", f"template is longer than {MAX_TEMPLATE_CHARS} characters"
        )
    if simple_parts(source) is not None:
        return None
    parsed = parse(source)
    return parsed if isinstance(parsed, TemplateProblem) else None


def render(source: str, env: Mapping[str, str]) -> Rendered:
    """``source`` rendered against ``env``, with every missing variable collected."""
    if not is_template(source):
        return Rendered(source)
    if len(source) > MAX_TEMPLATE_CHARS:
        problem = check_syntax(source)
        return Rendered(None, problem=problem)
    parts = quick_parts(source) or simple_parts(source)
    if parts is not None:
        result = render_simple(parts, env)
    else:
        parsed = parse(source)
        if isinstance(parsed, TemplateProblem):
            return Rendered(None, problem=parsed)
        result = evaluate(parsed, env)
    if result.value is not None and not is_text(result.value):
        return Rendered(None, problem=NOT_TEXT)
    return result
