"""The package's shape, read from its source with ``ast`` (nothing is imported):

- no import cycle between modules of ``graphfreeze_helpers``, counting imports inside
  functions too (a function-level import only hides a cycle, it does not remove it);
- sibling modules are imported at module top, never inside a function;
- no private name (``_x``) crosses a module line: not imported from a sibling, not read as
  ``module._x``, and no private attribute defined in one module is used from another;
- no module takes a standard library name (a kernel started in the folder would import ours).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Iterator, Optional

import pytest

PACKAGE = "graphfreeze_helpers"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
TREES: dict[str, ast.Module] = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def _package_of(module: str) -> str:
    """The package a module's relative imports start from (a package's own ``__init__`` is its package)."""
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module name an ``ImportFrom`` names.

    ``from ..files import x`` in ``pkg.course.sweep`` -> ``pkg.files``.
    """
    if node.level == 0:
        return node.module or ""
    base = _package_of(module).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(module: str, tree: ast.AST) -> Iterator[tuple[str, int]]:
    """``(sibling module, line)`` for every import of a package module anywhere in ``tree`` (functions included)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if not (target == PACKAGE or target.startswith(PACKAGE + ".")):
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                # `from . import files` imports the module files; `from .files import x` the module .files
                yield (submodule if submodule in MODULES else target), node.lineno


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, tree in TREES.items():
        for target, _ in imported_modules(name, tree):
            if target in MODULES and target != name:
                graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> Optional[list[str]]:
    """One import cycle as ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> Optional[list[str]]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_the_graph_has_edges():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    inside = ast.parse("def f():\n    from . import errors\n")
    assert [t for t, _ in imported_modules(f"{PACKAGE}.freeze", inside)] == [f"{PACKAGE}.errors"]
    graph = import_graph()
    # the parse sees real edges, top-level and inside functions alike, relative and from a subpackage
    assert f"{PACKAGE}.errors" in graph[f"{PACKAGE}.freeze"]
    assert f"{PACKAGE}.safety" in graph[f"{PACKAGE}.summary"]
    assert any(f"{PACKAGE}.files" in graph[m] for m in graph if m.startswith(f"{PACKAGE}.course"))


def test_no_import_cycle_inside_the_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def function_level_sibling_imports() -> list[str]:
    """Imports of package modules inside a function or method (they belong at module top)."""
    found = []
    for module, tree in TREES.items():
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for target, line in imported_modules(module, function):
                found.append(f"{MODULES[module].relative_to(ROOT.parent)}:{line} imports {target} in {function.name}()")
    return sorted(set(found))


def test_sibling_imports_sit_at_module_top():
    # Only heavy third-party imports (TensorFlow, Keras, matplotlib, ...) stay inside functions.
    found = function_level_sibling_imports()
    assert not found, "move these imports to the top of the module:\n" + "\n".join(found)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_aliases(module: str, tree: ast.AST) -> dict[str, str]:
    """Local names bound to package modules: ``from . import graphfile`` -> ``{'graphfile': 'pkg.graphfile'}``."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.asname:
                    aliases[alias.asname] = alias.name
    return aliases


def _defined_private_names(tree: ast.AST) -> set[str]:
    """Private names a module defines: top-level or class functions, classes, assignments, ``self._x = ...``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _private(node.name):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and _private(sub.id):
                        names.add(sub.id)
                    elif isinstance(sub, ast.Attribute) and _private(sub.attr):
                        names.add(sub.attr)
    return names


def private_crossings() -> list[str]:
    defined = {name: _defined_private_names(tree) for name, tree in TREES.items()}
    found = []
    for module, tree in TREES.items():
        aliases = _module_aliases(module, tree)
        own = defined[module]
        elsewhere = set().union(*(names for name, names in defined.items() if name != module)) - own
        for node in ast.walk(tree):
            where = f"{MODULES[module].relative_to(ROOT.parent)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.ImportFrom):
                target = _resolve(module, node)
                if target.startswith(PACKAGE) and target != module:
                    if _private(target.rpartition(".")[2]):
                        found.append(f"{where} imports the private module {target}")
                    found += [f"{where} imports {alias.name} from {target}"
                              for alias in node.names if _private(alias.name)]
            elif isinstance(node, ast.Import):
                found += [f"{where} imports the private module {a.name}" for a in node.names
                          if a.name.startswith(PACKAGE) and any(_private(p) for p in a.name.split("."))]
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                value = node.value
                if isinstance(value, ast.Name) and value.id in aliases and aliases[value.id] != module:
                    found.append(f"{where} reads {value.id}.{node.attr} from module {aliases[value.id]}")
                elif not (isinstance(value, ast.Name) and value.id in ("self", "cls")) and node.attr in elsewhere:
                    found.append(f"{where} uses .{node.attr}, a private name of another module")
    return found


def test_no_private_name_crosses_a_module_line():
    found = private_crossings()
    assert not found, "make these public or move the caller:\n" + "\n".join(found)


def test_the_private_name_check_catches_each_kind(monkeypatch):
    sample = {
        f"{PACKAGE}.fake_a": ast.parse("_helper = 1\nclass Thing:\n    def __init__(self):\n        self._keep = []\n"),
        f"{PACKAGE}.fake_b": ast.parse(
            "from .fake_a import _helper\nfrom . import fake_a\nx = fake_a._helper\n"
            "def f(thing):\n    thing._keep.append(1)\n"
        ),
    }
    monkeypatch.setattr(sys.modules[__name__], "TREES", sample)
    paths = {name: ROOT / f"{name.rpartition('.')[2]}.py" for name in sample}
    monkeypatch.setattr(sys.modules[__name__], "MODULES", paths)
    found = private_crossings()
    assert any("imports _helper" in f for f in found)
    assert any("reads fake_a._helper" in f for f in found)
    assert any("uses ._keep" in f for f in found)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != PACKAGE))
def test_no_module_takes_a_standard_library_name(module):
    name = module.rpartition(".")[2]
    assert name not in sys.stdlib_module_names, f"{module} shadows the standard library's {name!r}; rename it"
