"""The house rules that keep carelog readable, checked on the source: no import circles, views
import no other views, capabilities keep their inner order, no module grows unnoticed.

The import graph is read from the source with `ast` (module-level and function-level imports
alike), so a circle hidden inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "carelog"
CAPABILITIES = ("accounts", "residents", "care", "reports", "audit", "web", "ops")
# Modules past about 300 lines, each with the reason it stays whole.
LONG_MODULES = {
    "carelog/care/forms.py": "the session form and its three companions share their fields",
}
MAX_LINES = 300


def module_name(path: Path) -> str:
    """carelog/care/board.py -> carelog.care.board; a package's __init__ is the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The carelog modules a module imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from carelog.care import board` imports carelog.care.board
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the carelog modules it imports (a package's own __init__ left out)."""
    known = modules()
    names = set(known)
    return {
        name: {m for m in imports_of(path, names) if not name.startswith(m + ".") and m != name}
        for name, path in known.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the list of modules around it, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_there_are_no_import_circles():
    """Modules import one another one way only."""
    assert find_cycle(import_graph()) is None, " -> ".join(find_cycle(import_graph()) or [])


def test_the_cycle_finder_finds_a_circle():
    """The check above can fail: a planted circle is found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def is_view_module(name: str) -> bool:
    """Views live in modules named views or *_views."""
    last = name.rsplit(".", 1)[-1]
    return last == "views" or last.endswith("_views")


def test_views_import_no_other_views():
    """A view module reaches shared logic through use cases and helpers, never another view."""
    graph = import_graph()
    offenders = {
        name: sorted(m for m in targets if is_view_module(m))
        for name, targets in graph.items()
        if is_view_module(name) and any(is_view_module(m) for m in targets)
    }
    assert offenders == {}


def test_only_the_app_factory_imports_views():
    """Nothing but create_app (carelog/__init__.py) depends on a view module."""
    graph = import_graph()
    importers = {
        name
        for name, targets in graph.items()
        if any(is_view_module(m) for m in targets) and not is_view_module(name)
    }
    assert importers <= {"carelog"}, importers


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_each_capability_is_a_package(capability):
    """The layout the architecture note describes is the one on disk."""
    assert (PACKAGE / capability / "__init__.py").is_file()


def test_the_renderer_and_the_vocabulary_import_neither_flask_nor_sqlalchemy():
    """The PDF renderer takes plain data: it and what it imports stay free of the web and the
    database (checked on the import graph; test_report_pdf checks it by importing)."""
    graph = import_graph()
    pure_roots = [m for m in graph if m.startswith("carelog.reports.pdf.")]
    seen, todo = set(), list(pure_roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(graph[name])
    for name in seen:
        source = modules()[name].read_text()
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in ("flask", "sqlalchemy"), (name, node.module)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in ("flask", "sqlalchemy"), name


def test_no_module_is_long_without_a_reason():
    """A module past about 300 lines is a hint to split it; the exceptions say why."""
    long = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
        if len(path.read_text().splitlines()) > MAX_LINES
    }
    assert set(long) <= set(LONG_MODULES), {k: v for k, v in long.items() if k not in LONG_MODULES}
