"""The stages wired together: discover → parse → layer → schema → semantic → compile,
then (given an environment) render → registry.

:func:`compile_paths` never raises for bad configuration: it collects every
diagnostic of every file into a :class:`Compilation`. :func:`load_registry`
is the strict entry point that raises a :class:`ConfigError` subclass.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _lints, _schema, _semantic
from ._build import build_registry, cyclic_gc_paused, render_or_raise
from ._catalog import Catalog, builtin_catalog
from ._compile import Call, compile_entities
from ._discover import DEFAULT_PATHS, MAX_FILE_BYTES, Discovery, discover
from ._errors import (
    Diagnostic,
    InputError,
    Severity,
    ValidationError,
)
from ._layer import Entity, layer
from ._parse import Document, parse_file
from ._registry import Registry
from ._schema import Located

INPUT_CODES = frozenset({"input-not-found", "io-error"})


@dataclass(frozen=True, slots=True)
class Compilation:
    discovery: Discovery
    documents: tuple[Document, ...]
    entities: tuple[Entity, ...]
    diagnostics: tuple[Diagnostic, ...]
    hashes: tuple[tuple[str, str], ...]  # (file, sha256) of every input read
    valid: tuple[Entity, ...] = ()  # the entities without schema errors: the calls' source
    _calls: list[tuple[Call, ...]] = field(default_factory=list, repr=False, compare=False)

    @property
    def calls(self) -> tuple[Call, ...]:
        """The registry calls, in order. Built on first use: `validate` never needs them."""
        if not self._calls:
            roots = [layer.root for layer in self.discovery.layers]
            self._calls.append(compile_entities(self.valid, roots))
        return self._calls[0]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def input_failed(self) -> bool:
        return any(d.code in INPUT_CODES for d in self.diagnostics)


def compile_paths(
    paths: Sequence[str | os.PathLike[str]] = DEFAULT_PATHS,
    *,
    catalog: Catalog | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> Compilation:
    catalog = catalog or builtin_catalog()
    found = discover(paths)
    diagnostics: list[Diagnostic] = list(found.diagnostics)
    documents: list[Document] = []
    hashes: list[tuple[str, str]] = []
    for source in found.files:
        parsed = parse_file(source, max_file_bytes)
        diagnostics.extend(parsed.diagnostics)
        documents.extend(parsed.documents)
        if parsed.sha256 is not None:
            hashes.append((source.path, parsed.sha256))
    layered = layer(documents)
    diagnostics.extend(layered.diagnostics)
    for kind, doc in layered.unkeyed:
        diagnostics.extend(
            _schema.validate(kind, Located(doc.data, doc.place, doc.key_place, doc.typed_scalars))
        )
    valid: list[Entity] = []
    for entity in layered.entities:
        problems = _schema.validate(entity.kind, entity.located())
        diagnostics.extend(problems)
        if not problems:
            valid.append(entity)
    diagnostics.extend(_semantic.check(layered.entities, catalog, valid))
    diagnostics.extend(_lints.lint(layered.entities, valid, catalog))
    ordered = _cap_per_file(sorted(_dedupe(diagnostics), key=Diagnostic.sort_key))
    return Compilation(
        found, tuple(documents), layered.entities, ordered, tuple(hashes), tuple(valid)
    )


MAX_DIAGNOSTICS_PER_FILE = 100


def _cap_per_file(diagnostics: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
    """At most MAX_DIAGNOSTICS_PER_FILE per file (errors first), then one notice: a file with
    thousands of problems needs its first ones fixed, not a flood in the CI log."""
    by_file: dict[str | None, list[Diagnostic]] = {}
    for diag in diagnostics:
        by_file.setdefault(diag.file, []).append(diag)
    out: list[Diagnostic] = []
    for file, items in by_file.items():
        if len(items) <= MAX_DIAGNOSTICS_PER_FILE:
            out.extend(items)
            continue
        keep = sorted(items, key=lambda d: d.severity is not Severity.ERROR)
        keep = sorted(keep[:MAX_DIAGNOSTICS_PER_FILE], key=Diagnostic.sort_key)
        out.extend(keep)
        has_errors = any(d.severity is Severity.ERROR for d in items)
        out.append(
            Diagnostic(
                Severity.ERROR if has_errors else Severity.WARNING,
                "too-many-problems",
                f"{len(items) - MAX_DIAGNOSTICS_PER_FILE} more problems in this file are not shown",
                file=file,
                hint="fix the ones above and run again",
            )
        )
    return tuple(out)


def _dedupe(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(diagnostics))


def raise_for(compilation: Compilation) -> None:
    if compilation.input_failed:
        raise InputError(compilation.errors)
    if not compilation.ok:
        raise ValidationError(compilation.errors)


def load_registry(
    paths: Sequence[str | os.PathLike[str]] = DEFAULT_PATHS,
    *,
    env: Mapping[str, str] | None = None,
    bindings: Mapping[str, Any] | None = None,
    import_handlers: bool = True,
) -> Registry:
    """Validate, compile and render ``paths`` and return the Registry.

    Raises :class:`InputError`, :class:`ValidationError` or :class:`TemplateError`
    (all :class:`ConfigError`) with every problem found.
    """
    environ = dict(os.environ) if env is None else dict(env)
    with cyclic_gc_paused():
        compilation = compile_paths(paths)
        raise_for(compilation)
        rendered = render_or_raise(compilation.calls, environ)
        return build_registry(
            rendered, env=environ, bindings=bindings, import_handlers=import_handlers
        )
