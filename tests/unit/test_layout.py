"""The package's structure, read from its source with ``ast``: which part may import which,
where the heavy dependencies are imported, and no import cycle anywhere.

Every import counts, including those inside functions (a lazy import is still a
dependency); imports under ``if TYPE_CHECKING:`` count for the boundaries but not for
cycles or dependencies, since they never run.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO

PACKAGE = REPO / "flue_decl"

# Which parts a part may import. "shared" is the top-level private modules (errors,
# domain, URLs, secrets, catalog ...); "load" is flue_decl._load, where the two sides meet,
# and the child processes it starts (_isolated compiles, _poller polls).
ALLOWED = {
    "shared": {"shared"},
    "templates": {"shared", "templates"},
    "compiler": {"shared", "templates", "compiler"},
    "runtime": {"shared", "templates", "runtime"},
    "views": {"shared", "templates", "runtime", "views"},
    "load": {"shared", "compiler", "runtime", "load"},
    "cli": {"shared", "templates", "compiler", "runtime", "views", "load", "cli"},
    "package": {"shared", "compiler", "runtime", "load"},
    "main": {"cli"},
}
# Third-party modules and the only parts of flue_decl that may load them.
HEAVY = {
    "yaml": ("flue_decl.compiler.",),
    "jsonschema": ("flue_decl.compiler.",),
    "referencing": ("flue_decl.compiler.",),
    # The template language's parser, and only for templates the shortcut cannot read.
    "jinja2": ("flue_decl.templates._jinja",),
    "httpx": ("flue_decl.runtime._clients", "flue_decl.runtime._probe"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part(module: str) -> str:
    names = module.split(".")
    if len(names) == 1:
        return "package"
    if names[1] in ("compiler", "runtime", "templates", "views", "cli"):
        return names[1]
    loading = {"_load": "load", "_isolated": "load", "_poller": "load", "__main__": "main"}
    return loading.get(names[1], "shared")


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


@functools.cache
def imports(module: str) -> tuple[tuple[str, bool], ...]:
    """(imported module, runs at run time) for every import statement of ``module``."""
    return tuple(_imports(module))


def _imports(module: str) -> Iterator[tuple[str, bool]]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        runs = not _type_checking_only(node, parents)
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, runs
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from . import _x` imports the submodule _x
                sub = f"{target}.{alias.name}"
                yield (sub if sub in MODULES else target), runs


@functools.cache
def graph(*, run_time_only: bool) -> dict[str, set[str]]:
    return {
        module: {
            target
            for target, runs in imports(module)
            if target in MODULES and target != module and (runs or not run_time_only)
        }
        for module in MODULES
    }


def test_every_module_belongs_to_a_known_part() -> None:
    assert {part(m) for m in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_stay_within_the_allowed_parts(module: str) -> None:
    crossing = sorted(
        target
        for target in graph(run_time_only=False)[module]
        if part(target) not in ALLOWED[part(module)]
    )
    assert not crossing, f"{module} ({part(module)}) imports {crossing}"


MAX_MODULE_LINES = 400  # a module a newcomer can read whole


def test_every_module_is_small_enough_to_read_whole() -> None:
    long = {
        module: lines
        for module, path in MODULES.items()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these by what changes together: {long}"


def test_heavy_dependencies_are_imported_only_where_they_belong() -> None:
    misplaced = []
    for module in MODULES:
        for target, runs in imports(module):
            allowed = HEAVY.get(target.split(".")[0])
            if runs and allowed is not None and not module.startswith(allowed):
                misplaced.append(f"{module} imports {target}")
    assert not misplaced


def test_there_is_no_import_cycle() -> None:
    edges = graph(run_time_only=True)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles


def test_the_checks_see_what_they_must() -> None:
    # The walk itself: it finds a lazy import inside a function and a relative submodule.
    edges = graph(run_time_only=True)
    assert "flue_decl.runtime._clients" in edges["flue_decl.runtime._registry"]
    assert "flue_decl.compiler._checks" in edges["flue_decl.compiler._pipeline"]
    assert "flue_decl.compiler" in edges["flue_decl._load"]
    assert part("flue_decl.runtime._registry") == "runtime"
    assert "compiler" not in ALLOWED["runtime"]


def test_kind_names_are_spelled_only_in_the_table_of_kinds() -> None:
    from flue_decl._domain import KINDS, KindName

    assert set(KINDS) == set(KindName)
    names = set(KindName)
    spelled = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_domain.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in names:
                spelled.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
    assert not spelled, "use KindName: " + ", ".join(spelled)
