"""The compile side wired together: discover → parse → layer → schema → checks and lints →
calls.

:func:`compile_paths` never raises for bad configuration: it collects every diagnostic of
every file into a :class:`Compilation`. :func:`load_calls` is the strict form, for code
that wants the calls or an exception.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .._catalog import Catalog, builtin_catalog
from .._discover import Discovery, SourceFile, as_layers, discover
from .._domain import Call
from .._errors import Diagnostic, InputError, Severity, ValidationError
from .._settingkeys import Settings
from .._settings import settings_for
from . import _checks, _lints, _schema, _suppress
from ._budget import TreeBudget
from ._calls import compile_entities
from ._found import Found
from ._layer import Entity, layer
from ._parallel import judge, parse_files
from ._parse import Document
from ._schema import Located
from ._suppress import Suppression

PathArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
SettingsArg = str | os.PathLike[str] | Settings | None

INPUT_CODES = frozenset({"input-not-found", "io-error", "too-many-files"})


@dataclass(frozen=True, slots=True)
class Compilation:
    """Everything one compile of a tree found: its files, documents, entities, every
    diagnostic (sorted by place), the hash of every file read, and (on first use) the
    registry calls of the entities that passed the schema."""

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
            self._calls.append(compile_entities(self.valid, self.layer_roots))
        return self._calls[0]

    @property
    def layer_roots(self) -> tuple[str, ...]:
        """The input paths, one per layer, in order."""
        return tuple(layer.root for layer in self.discovery.layers)

    @property
    def files(self) -> int:
        """How many files were read."""
        return len(self.discovery.files)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def reported(self) -> tuple[Diagnostic, ...]:
        """The diagnostics that no comment or setting suppressed."""
        return tuple(d for d in self.diagnostics if d.suppressed is None)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def input_failed(self) -> bool:
        return any(d.code in INPUT_CODES for d in self.diagnostics)

    def raise_for_errors(self) -> None:
        """Raise :class:`InputError` (a path is missing or unreadable) or
        :class:`ValidationError` with every error, if there are any."""
        if self.input_failed:
            raise InputError(self.errors)
        if not self.ok:
            raise ValidationError(self.errors)


def compile_paths(
    paths: PathArg | None = None,
    *,
    catalog: Catalog | None = None,
    max_file_bytes: int | None = None,
    known_providers: Collection[str] | None = None,
    settings: SettingsArg = None,
    allow_empty: bool = False,
    jobs: int = 1,
) -> Compilation:
    """Compile ``paths`` (one directory or file, or a list of them in layer order; default:
    the settings' ``paths``, else ``providers.d``) and collect every problem.

    ``catalog`` is the built-in one unless given; files larger than ``max_file_bytes`` are
    refused unread; ``known_providers`` are provider IDs the service registers in its own
    code, which ``ProviderConfiguration`` documents may then target. ``settings``: a
    settings file (or :class:`Settings`) for what is not given here, and its ``ignore`` and
    ``per-file-ignores``. Paths that hold no YAML document between them are a
    ``no-documents`` error unless ``allow_empty`` (an empty list of paths reads nothing and
    is not one). ``jobs``: how many processes may share the work (more than one: worker
    processes forked for part of it, where that is safe: ``_spread``); the answer is the
    same."""
    options = settings_for(
        settings,
        paths=None if paths is None else as_layers(paths),
        max_file_bytes=max_file_bytes,
        known_providers=None if known_providers is None else tuple(known_providers),
    )
    catalog = catalog or builtin_catalog()
    found = discover(options.layers())
    sizes = _sizes(found.files, options.max_file_bytes)
    tree = TreeBudget(sum(sizes))  # the tree's one
    diagnostics = Found(found.diagnostics)
    documents: list[Document] = []
    hashes: list[tuple[str, str]] = []
    suppressions: dict[str, tuple[Suppression, ...]] = {}
    for parsed in parse_files(found.files, sizes, options.max_file_bytes, tree, jobs):
        source = parsed.file
        diagnostics.extend(parsed.diagnostics)
        documents.extend(parsed.documents)
        if parsed.suppressions:
            suppressions[source.path] = parsed.suppressions
        if parsed.sha256 is not None:
            hashes.append((source.path, parsed.sha256))
    if not documents and found.layers and not allow_empty and not _any_error(diagnostics.kept):
        diagnostics.extend([_no_documents(found)])
    layered = layer(documents)
    diagnostics.extend(layered.diagnostics)
    for kind, doc in layered.unkeyed:
        diagnostics.extend(
            _schema.validate(kind, Located(doc.data, doc.place, doc.key_place, doc.typed_scalars))
        )
    entities = layered.entities
    checks = _checks.Checks(entities, catalog, options.known_providers)

    def lints(entity: Entity) -> Iterator[Diagnostic]:
        return _lints.lint_one(entity, entities, catalog)

    # Worked on in several processes, or found here one at a time (bounded by ``Found``).
    judged = judge(entities, _schema_problems, checks, lints, jobs)
    valid: list[Entity] = []
    for i, entity in enumerate(entities):
        problems = judged.problems[i] if judged else _schema_problems(entity)
        diagnostics.extend(problems)
        if not problems:
            valid.append(entity)
    diagnostics.extend(judged.checks if judged else (d for e in entities for d in checks(e)))
    diagnostics.extend(checks.transport(valid))
    diagnostics.extend(judged.lints if judged else (d for e in entities for d in lints(e)))
    if layered.duplicates:
        twins = _check_duplicates(layered.entities, layered.duplicates, catalog, options)
        diagnostics.extend(twins)
    collected = diagnostics.all()
    if suppressions:
        collected = _suppress.apply(collected, suppressions)
    if options.ignore or options.per_file_ignores:
        collected = [_external(d, options) for d in collected]
    ordered = _cap_per_file(
        sorted(_dedupe(collected), key=Diagnostic.sort_key), diagnostics.cut_files()
    )
    return Compilation(
        found, tuple(documents), layered.entities, ordered, tuple(hashes), tuple(valid)
    )


def _schema_problems(entity: Entity) -> list[Diagnostic]:
    return _schema.validate(entity.kind, entity.located())


def _sizes(files: Iterable[SourceFile], max_bytes: int) -> list[int]:
    """The size of each file a compile will read, as it stands before it is read: a file
    that cannot be sized or is past the cap (refused unread) counts nothing."""
    sizes = []
    for source in files:
        try:
            size = os.stat(source.path).st_size
        except (OSError, ValueError):
            size = 0
        sizes.append(size if size <= max_bytes else 0)
    return sizes


def _check_duplicates(
    entities: Sequence[Entity],
    duplicates: Sequence[Entity],
    catalog: Catalog,
    options: Settings,
) -> Iterator[Diagnostic]:
    """Every problem of the second definitions of entities, as if each stood alone in the
    tree: checked once, all together, keeping what is found inside them (the rest of the
    tree was checked without them). Yielded as found, so a flood is cut (``Found``)."""
    valid = []
    for twin in duplicates:
        problems = _schema.validate(twin.kind, twin.located())
        yield from problems
        if not problems:
            valid.append(twin)
    together = [*entities, *duplicates]
    spans = [_span(twin) for twin in duplicates]
    found = itertools.chain(
        _checks.check(together, catalog, valid, options.known_providers),
        _lints.lint(together, catalog),
    )
    yield from (d for d in found if any(_inside(d, span) for span in spans))


def _span(entity: Entity) -> tuple[str, int, int]:
    """The file and the first and last line of an entity's one document."""
    doc = entity.documents[0]
    return (doc.file, doc.start.line, max(doc.places.lines(), default=doc.start.line))


def _inside(diagnostic: Diagnostic, span: tuple[str, int, int]) -> bool:
    file, first, last = span
    return diagnostic.file == file and diagnostic.line is not None and (
        first <= diagnostic.line <= last
    )


def _any_error(diagnostics: Sequence[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def _no_documents(found: Discovery) -> Diagnostic:
    """A run that checked nothing must not pass: a typo in a CI path would be green."""
    roots = ", ".join(layer.root for layer in found.layers) or "(no paths given)"
    read = len(found.files)
    what = "no YAML file there" if not read else f"{read} file{'s' if read != 1 else ''}, all empty"
    return Diagnostic(
        Severity.ERROR,
        "no-documents",
        f"no YAML document in {roots} ({what}): nothing was checked",
        hint="point at your providers.d directory (the paths, or `paths` in flue-decl.toml), "
        "and name *.yaml or *.yml files",
    )


def _external(diag: Diagnostic, settings: Settings) -> Diagnostic:
    if diag.suppressed is None and settings.ignored(diag):
        return dataclasses.replace(diag, suppressed="external")
    return diag


MAX_DIAGNOSTICS_PER_FILE = 100


def _cap_per_file(
    diagnostics: Sequence[Diagnostic], cut: Collection[str | None] = ()
) -> tuple[Diagnostic, ...]:
    """At most MAX_DIAGNOSTICS_PER_FILE per file (errors first), then one notice: a file with
    thousands of problems needs its first ones fixed, not a flood in the CI log. Suppressed
    diagnostics are kept and not counted."""
    by_file: dict[str | None, list[Diagnostic]] = {}
    for diag in diagnostics:
        by_file.setdefault(diag.file, []).append(diag)
    out: list[Diagnostic] = []
    for file, items in by_file.items():
        active = [d for d in items if d.suppressed is None]
        if len(active) <= MAX_DIAGNOSTICS_PER_FILE:
            out.extend(items)
            continue
        keep = sorted(active, key=lambda d: d.severity is not Severity.ERROR)
        keep = keep[:MAX_DIAGNOSTICS_PER_FILE] + [d for d in items if d.suppressed]
        out.extend(sorted(keep, key=Diagnostic.sort_key))
        has_errors = any(d.severity is Severity.ERROR for d in active)
        # Where a check stopped early, or findings were cut as found, there are more.
        stopped = file in cut or any(d.code == "too-many-problems" for d in active)
        out.append(
            Diagnostic(
                Severity.ERROR if has_errors else Severity.WARNING,
                "too-many-problems",
                f"{'at least ' if stopped else ''}{len(active) - MAX_DIAGNOSTICS_PER_FILE} "
                "more problems in this file are not shown",
                file=file,
                hint="fix the ones above and run again",
            )
        )
    return tuple(out)


def _dedupe(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(diagnostics))


def load_calls(
    paths: PathArg | None = None,
    *,
    catalog: Catalog | None = None,
    max_file_bytes: int | None = None,
    known_providers: Collection[str] | None = None,
    settings: SettingsArg = None,
    allow_empty: bool = False,
) -> tuple[Call, ...]:
    """The registry calls of ``paths``, templates unrendered; raises :class:`InputError` or
    :class:`ValidationError` with every error found (see :func:`compile_paths`)."""
    compilation = compile_paths(
        paths,
        catalog=catalog,
        max_file_bytes=max_file_bytes,
        known_providers=known_providers,
        settings=settings,
        allow_empty=allow_empty,
    )
    compilation.raise_for_errors()
    return compilation.calls
