"""A tree's files parsed by several processes (``compile_paths(jobs=N)``, see ``_spread``),
file for file as one process parses them.

The files are cut into runs of about the same size, in order. The parent parses the
first run as always; a worker each of the others, by the fast pass alone (``_fastparse``),
within what the tree's budget had left when it was forked (so it holds no more than the
tree may). The parent then takes the workers' files in order as if it had read them at
their turn: each charged to the tree's budget as ``parse_file`` charges it, after the
file's own charge. A worker gives, with each file's documents, what the file
charges and the most it asked of the budget at one check (``need``): where the tree could
not have paid that at the file's turn, the parent parses the worker's text again, and the
budget refuses it at its place as it would have. A file a worker did not read whole and
plainly (one the event pass reads, one with any problem or past the worker's budget, a
value ``marshal`` cannot carry such as a date) the parent parses itself, at its turn.

Worth it only for a tree of some size: a worker's run is at least ``MIN_BYTES``.

:func:`judge` spreads the schema, the checks and the lints the same way: the entities
are cut into consecutive shares (a process touches only its own entities' values, so a
forked worker copies few of its parent's pages), and each stage's findings are put back
in the order one process finds them (every entity's schema problems, then every entity's
checks, then every entity's lints). A share that finds more than ``MAX_HELD`` problems
makes the whole tree's work go again in one process, where its findings are bounded as
they are found (``_found``) instead of held.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import marshal
import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .._discover import SourceFile
from .._errors import Diagnostic
from . import _fastparse, _portable, _spread
from ._budget import TreeBudget
from ._checks import Checks
from ._document import ParsedFile
from ._layer import Entity
from ._lazyplaces import Parts, rebuilt
from ._parse import _Loader, charged, decode, parse_file, parse_text, parsed, read_source
from ._places import MAX_PLACEABLE

MIN_BYTES = 128 * 1024  # a run this small costs about as much to hand over as to parse
MIN_ENTITIES = 150  # a share of fewer entities is done sooner than handed over
MAX_HELD = 2_000  # problems one share holds (``_found`` keeps 1,000 of a code in a file)


def parse_files(
    files: Sequence[SourceFile],
    sizes: Sequence[int],
    max_bytes: int,
    tree: TreeBudget,
    jobs: int = 1,
) -> list[ParsedFile]:
    """Every file of ``files`` (of ``sizes`` bytes) parsed in order, charged to ``tree``, by
    up to ``jobs`` processes."""
    runs = _runs(sizes, min(_spread.usable(jobs), sum(sizes) // MIN_BYTES))
    if len(runs) == 1:
        return [parse_file(source, max_bytes, tree) for source in files]
    cap = min(max_bytes, MAX_PLACEABLE)
    (first, *others) = [files[start:end] for start, end in runs]
    own, answers = _spread.spread(
        [functools.partial(_worker, run, cap, tree.limit - tree.used) for run in others],
        lambda: [parse_file(source, max_bytes, tree) for source in first],
    )
    out = own
    for i, run in enumerate(others):
        answer, answers[i] = answers[i], None  # bytes freed as soon as they are read
        reads: list[Answer | None] = [None] * len(run)
        if answer is not None:
            reads = marshal.loads(answer)
            del answer
        taken = zip(run, reads, strict=True)
        out.extend(_taken(source, read, max_bytes, tree) for source, read in taken)
    return out


def _runs(sizes: Sequence[int], jobs: int) -> list[tuple[int, int]]:
    """``jobs`` runs of consecutive files, as (start, end), of about the same bytes."""
    if jobs <= 1:
        return [(0, len(sizes))]
    runs: list[tuple[int, int]] = []
    total, start, seen = sum(sizes), 0, 0
    for i, size in enumerate(sizes):
        seen += size
        if seen * jobs >= total * (len(runs) + 1) and len(runs) < jobs - 1:
            runs.append((start, i + 1))
            start = i + 1
    runs.append((start, len(sizes)))
    return [run for run in runs if run[0] < run[1]] or [(0, 0)]


def _worker(files: Sequence[SourceFile], cap: int, room: int) -> bytes:
    """In a worker: each file's answer, or None, marshalled. One budget for the run, of
    what the tree had left at the fork (``room``): the worker holds no more than the tree
    may, and a file past it is the parent's (whose budget refuses it at its turn). A file's
    charges do not depend on the files before it, so one budget only makes the strings
    the files repeat one object, written once."""
    tree = TreeBudget(0)
    tree.limit = room
    answers = [_alone(source, cap, tree) for source in files]
    try:
        return marshal.dumps(answers)
    except ValueError:  # a date, or another value marshal does not carry: the parent reads it
        return marshal.dumps([a if a is None or _carried(a) else None for a in answers])


def _carried(answer: Answer) -> bool:
    try:
        marshal.dumps(answer)
    except ValueError:
        return False
    return True


Answer = tuple[str, str, int, int, Parts]  # a file's sha256, text, charge, need, documents


def _alone(source: SourceFile, cap: int, tree: TreeBudget) -> Answer | None:
    _spread.stop_if_abandoned()
    if charged(source, tree) is not None:
        return None
    raw, _ = read_source(source, cap)
    if raw is None:
        return None
    text, _ = decode(raw, source.path)
    if text is None or _portable.problem(text, source.path, _Loader) is not None:
        return None
    fast = _fastparse.parse(text, source.path, source.layer, tree)
    if fast is None:
        return None
    documents, charge, need = fast
    tree.used += charge
    parts = [(d.index, d.places.root, d.data, d.places.texts) for d in documents]
    return hashlib.sha256(raw).hexdigest(), text, charge, need, parts


def _taken(source: SourceFile, read: Answer | None, max_bytes: int, tree: TreeBudget) -> ParsedFile:
    """A worker's file, taken at its turn as ``parse_file`` would have read it."""
    if read is None:
        return parse_file(source, max_bytes, tree)
    refused = charged(source, tree)
    if refused is not None:
        return refused
    sha256, text, charge, need, parts = read
    if tree.used + need > tree.limit:
        return parse_text(text, source, sha256, tree)  # refused where the budget ran out
    tree.used += charge
    documents = rebuilt(_fastparse.source_of(text, source.path, source.layer, tree), parts)
    return parsed(source, text, sha256, documents)


Work = Callable[[Entity], Iterable[Diagnostic]]


@dataclass(frozen=True, slots=True)
class Judged:
    """What the schema, the checks and the lints found on a tree's entities: the schema's
    problems of each entity, then the checks' findings and the lints', in their order; and
    the base URLs the checks read (``Checks.urls``: the transport rule reads them again)."""

    problems: list[list[Diagnostic]]
    checks: list[Diagnostic]
    lints: list[Diagnostic]
    urls: dict[str, list[tuple[str, str]]]


def judge(
    entities: Sequence[Entity], schema: Work, checks: Checks, lints: Work, jobs: int
) -> Judged | None:
    """The work of ``schema``, ``checks`` and ``lints`` on every entity, spread over up to
    ``jobs`` processes; None where it is for one process (too few entities, no fork, or a
    share found too much)."""
    jobs = min(_spread.usable(jobs), len(entities) // MIN_ENTITIES)
    if jobs <= 1:
        return None
    cuts = _cuts(len(entities), jobs)

    def share(span: tuple[int, int]) -> Judged | None:
        return _share(entities[span[0] : span[1]], (schema, checks, lints), checks)

    def answer(span: tuple[int, int]) -> bytes:
        return pickle.dumps(share(span))

    first, *others = itertools.pairwise(cuts)
    own, answers = _spread.spread(
        [functools.partial(answer, span) for span in others], functools.partial(share, first)
    )
    shares = [own] + [
        pickle.loads(given) if given is not None else share(span)
        for span, given in zip(others, answers, strict=True)
    ]
    parts = [part for part in shares if part is not None]
    if len(parts) < len(shares):
        return None
    for part in parts[1:]:
        checks.urls.update(part.urls)
    return Judged(
        [problems for part in parts for problems in part.problems],
        [found for part in parts for found in part.checks],
        [found for part in parts for found in part.lints],
        checks.urls,
    )


def _cuts(total: int, jobs: int) -> list[int]:
    """Where the even shares of ``total`` entities begin, and the end."""
    return [total * k // jobs for k in range(jobs + 1)]


def _share(
    entities: Sequence[Entity], work: tuple[Work, Work, Work], checks: Checks
) -> Judged | None:
    """What the schema, the checks and the lints find on ``entities``, each stage's in the
    entities' order; None past ``MAX_HELD``."""
    held: list[list[Diagnostic]] = [[], [], []]  # the schema's problems, the checks', lints'
    problems: list[list[Diagnostic]] = []
    room = MAX_HELD
    for stage in range(3):
        for entity in entities:
            _spread.stop_if_abandoned()
            found = list(itertools.islice(work[stage](entity), room + 1))
            room -= len(found)
            if room < 0:
                return None
            if stage == 0:
                problems.append(found)
            else:
                held[stage].extend(found)
    return Judged(problems, held[1], held[2], dict(checks.urls))
