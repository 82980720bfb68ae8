"""Jinja2 itself, set up as flue-decl's templates were before they had their own evaluator:
the oracle the template language is checked against (a sandbox with ``StrictUndefined``,
no globals, one variable ``env`` looked up by name; every missing variable collected by
standing in an empty value for each until the template renders)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

import jinja2
from jinja2.sandbox import SandboxedEnvironment


class Missing(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


class _Env:
    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> str:
        return self._values[name]


class _Overlay(Mapping[str, str]):
    def __init__(self, base: Mapping[str, str], extra: Mapping[str, str]) -> None:
        self._base, self._extra = base, extra

    def __getitem__(self, key: str) -> str:
        return self._extra[key] if key in self._extra else self._base[key]

    def __iter__(self) -> Iterator[str]:
        raise TypeError("env cannot be iterated")

    def __len__(self) -> int:
        return 0


class _Undefined(jinja2.StrictUndefined):
    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        if isinstance(self._undefined_obj, _Env) and isinstance(self._undefined_name, str):
            raise Missing(self._undefined_name)
        super()._fail_with_undefined_error(*args, **kwargs)
        raise AssertionError("unreachable")


# Jinja binds its failing dunders to the base class's function: rebind every one.
for _klass in jinja2.StrictUndefined.__mro__:
    for _name, _value in vars(_klass).items():
        if _value is jinja2.Undefined._fail_with_undefined_error and _name.startswith("__"):
            setattr(_Undefined, _name, _Undefined._fail_with_undefined_error)


@functools.cache
def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=_Undefined, autoescape=False, keep_trailing_newline=True)
    env.globals.clear()
    return env


def render(source: str, env: Mapping[str, str]) -> tuple[str | None, tuple[str, ...]]:
    """(value, ()) or (None, every missing variable in the order Jinja meets them)."""
    template = environment().from_string(source)
    placeholders: dict[str, str] = {}
    missing: list[str] = []
    while True:
        try:
            out = template.render(env=_Env(_Overlay(env, placeholders)))
        except Missing as exc:
            missing.append(exc.name)
            placeholders[exc.name] = ""
            continue
        return (None, tuple(missing)) if missing else (out, ())
