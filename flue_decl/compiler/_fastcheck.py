"""A compiled yes/no check of the project's own schemas, so that a valid document (the
common case: CI on a reviewed tree) is answered without jsonschema.

jsonschema stays the authority: every document this check rejects is validated again by
jsonschema, which finds and words the errors, so diagnostics are unchanged. What must hold
is that the two never disagree about *validity*; its differential tests compare them on
generated documents and on every fixture. The schemas use a small set of keywords; a keyword
outside that set makes :func:`compile_checks` answer ``None`` and everything goes to
jsonschema, so editing a schema can make validation slower but never laxer.

Semantics follow jsonschema 4 (draft 2020-12) keyword by keyword: ``type`` with draft-6
integers (``1.0`` is an integer, ``True`` is not), ``const``/``enum`` with JSON equality
(``False`` is not ``0``), ``pattern`` as ``re.search``, length in code points, keywords
applying only to their own instance type, ``$ref`` next to other keywords.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never affect validity. (`$id` is not among them: it moves the base that
# references resolve against, so a schema with one goes to jsonschema.)
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$comment",
        "$defs",
        "title",
        "description",
        "errorMessage",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "then",  # read together with "if"
        "else",
        "additionalProperties",  # read together with "properties"
    }
)


_RANK = {"type": 0, "const": 1, "enum": 1, "required": 2}


class Unsupported(Exception):
    """A schema uses a keyword this module does not implement: fall back to jsonschema."""


def _is_integer(x: Any) -> bool:
    if type(x) is int:  # most, without the checks below
        return True
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


def _is_json_number(x: Any) -> bool:
    # int and float (what YAML gives) answered before the abstract class's slower check
    return type(x) in _PLAIN_NUMBERS or (not isinstance(x, bool) and isinstance(x, numbers.Number))


_PLAIN_NUMBERS = (int, float)


_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "integer": _is_integer,
    "number": _is_json_number,
}

_TRUE: object = object()
_FALSE: object = object()


def _unbool(x: Any) -> Any:
    if x is True:
        return _TRUE
    if x is False:
        return _FALSE
    return x


def equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema has it: booleans are not numbers, containers compare
    element by element with the same rule."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and equal(v, two[k]) for k, v in one.items())
    return bool(_unbool(one) == _unbool(two))


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)
    frozen = tuple(checks)

    def every(x: Any) -> bool:
        for check in frozen:  # noqa: SIM110 - a loop: no generator made per call
            if not check(x):
                return False
        return True

    return every


class _Compiler:
    def __init__(self, files: Mapping[str, Mapping[str, Any]]) -> None:
        self.files = files
        self.refs: dict[tuple[str, str], Check] = {}

    def ref(self, ref: str, base: str) -> Check:
        target, _, fragment = ref.partition("#")
        file = target or base
        key = (file, fragment)
        done = self.refs.get(key)
        if done is not None:
            return done
        if file not in self.files:
            raise Unsupported(f"$ref to an unknown document {ref!r}")
        node: Any = self.files[file]
        for raw in [p for p in fragment.split("/") if p]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise Unsupported(f"unresolvable $ref {ref!r}")
            node = node[part]
        # A recursive reference sees the slot before it is filled, through one indirection.
        slot: list[Check] = []

        def recursive(x: Any) -> bool:
            return slot[0](x)

        self.refs[key] = recursive
        compiled = self.schema(node, file)
        slot.append(compiled)
        self.refs[key] = compiled
        return compiled

    def schema(self, schema: Any, base: str) -> Check:
        if schema is True:
            return lambda x: True
        if schema is False:
            return lambda x: False
        if not isinstance(schema, Mapping):
            raise Unsupported(f"a schema must be a mapping or a boolean, not {schema!r}")
        # Cheap, decisive checks first: a wrong type fails before any recursion.
        ranked: list[tuple[int, Check]] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            build = getattr(self, f"k_{keyword.lstrip('$')}", None)
            if build is None:
                raise Unsupported(f"keyword {keyword!r}")
            ranked.append((_RANK.get(keyword, 9), build(value, schema, base)))
        if "additionalProperties" in schema and "properties" not in schema:
            ranked.append((9, self.k_properties({}, schema, base)))
        ranked.sort(key=lambda pair: pair[0])  # stable: schema order within a rank
        return _all([check for _, check in ranked])

    # -- keywords ----------------------------------------------------------------------

    def k_ref(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        if not isinstance(value, str):
            raise Unsupported("$ref must be a string")
        return self.ref(value, base)

    def k_type(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        names = [value] if isinstance(value, str) else list(value)
        try:
            preds = [_TYPES[n] for n in names]
        except KeyError as exc:
            raise Unsupported(f"type {exc}") from None
        if len(preds) == 1:
            return preds[0]
        return lambda x: any(p(x) for p in preds)

    def k_const(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        if isinstance(value, str):
            return lambda x: isinstance(x, str) and x == value
        return lambda x: equal(x, value)

    def k_enum(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        options = list(value)
        if all(isinstance(o, str) for o in options):
            strings = frozenset(options)
            return lambda x: isinstance(x, str) and x in strings
        return lambda x: any(equal(o, x) for o in options)

    def k_required(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        names = tuple(value)
        return lambda x: not isinstance(x, dict) or all(n in x for n in names)

    def k_properties(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        props = {name: self.schema(sub, base) for name, sub in value.items()}
        extra = schema.get("additionalProperties", True)
        if extra is True:
            if not props:
                return lambda x: True

            def known_only(x: Any) -> bool:
                if not isinstance(x, dict):
                    return True
                for key, check in props.items():  # noqa: SIM110 - no generator per call
                    if key in x and not check(x[key]):
                        return False
                return True

            return known_only
        closed = extra is False
        extra_check = None if closed else self.schema(extra, base)

        def with_extra(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for key, item in x.items():
                check = props.get(key) if isinstance(key, str) else None
                if check is None:
                    if closed or not extra_check(item):  # type: ignore[misc]
                        return False
                elif not check(item):
                    return False
            return True

        return with_extra

    def k_propertyNames(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        names = self.schema(value, base)
        return lambda x: not isinstance(x, dict) or all(map(names, x))

    def k_pattern(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        search = re.compile(value).search
        return lambda x: not isinstance(x, str) or search(x) is not None

    def k_minLength(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        return lambda x: not isinstance(x, str) or len(x) >= value

    def k_maxLength(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        return lambda x: not isinstance(x, str) or len(x) <= value

    def k_minimum(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        return lambda x: not _is_json_number(x) or not x < value

    def k_maximum(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        return lambda x: not _is_json_number(x) or not x > value

    def k_allOf(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        return _all([self.schema(sub, base) for sub in value])

    def k_anyOf(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        subs = [self.schema(sub, base) for sub in value]
        return lambda x: any(s(x) for s in subs)

    def k_oneOf(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        subs = [self.schema(sub, base) for sub in value]
        return lambda x: sum(1 for s in subs if s(x)) == 1

    def k_not(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        sub = self.schema(value, base)
        return lambda x: not sub(x)

    def k_if(self, value: Any, schema: Mapping[str, Any], base: str) -> Check:
        condition = self.schema(value, base)
        then = self.schema(schema.get("then", True), base)
        otherwise = self.schema(schema.get("else", True), base)
        return lambda x: then(x) if condition(x) else otherwise(x)


def compile_checks(
    files: Mapping[str, Mapping[str, Any]], roots: Mapping[str, str]
) -> dict[str, Check] | None:
    """One check per root (``{"Provider": "provider.schema.json", ...}``) over schema files
    keyed by the names their ``$ref``s use; ``None`` if any schema needs jsonschema."""
    compiler = _Compiler(files)
    try:
        return {name: compiler.ref(file, file) for name, file in roots.items()}
    except (Unsupported, re.error, TypeError):
        return None
