"""The architecture's import rules (DESIGN.md), checked on every module's syntax tree.

import-linter (`lint-imports`, run by `./tasks test`) checks the package contracts through the
import graph; this test also covers the rule import-linter cannot express simply: only
`appliance.cluster` may import the `kubernetes` client.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> Iterator[str]:
    """Every absolute module name `path` imports (relative imports stay inside their package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def python_files(package: str) -> list[Path]:
    """The package's source files."""
    return sorted((ROOT / package).rglob("*.py"))


def top(name: str) -> str:
    return name.split(".", 1)[0]


@pytest.mark.parametrize("package", ["appliance", "status_web"])
def test_production_never_imports_simulator(package: str) -> None:
    """Production code cannot know about the simulator: it would stop proving anything."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files(package)
        for name in imported_modules(path)
        if top(name) == "simulator"
    ]
    assert offenders == []


def test_simulator_never_imports_production() -> None:
    """The simulator is the oracle's world and must not share the product's bugs."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files("simulator")
        for name in imported_modules(path)
        if top(name) in {"appliance", "status_web"}
    ]
    assert offenders == []


def test_only_the_cluster_package_imports_the_kubernetes_client() -> None:
    """One place talks to the Kubernetes API; everything else works on plain snapshots."""
    cluster = ROOT / "appliance" / "cluster"
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ("appliance", "status_web")
        for path in python_files(package)
        if cluster not in path.parents
        for name in imported_modules(path)
        if top(name) == "kubernetes"
    ]
    assert offenders == []


def test_boundary_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself finds an offending import (so the tests above can fail)."""
    module = tmp_path / "leak.py"
    module.write_text("import os\nfrom simulator.api.store import ObjectStore\n", encoding="utf-8")
    assert "simulator.api.store" in set(imported_modules(module))


def import_cycles(package: str) -> list[list[str]]:
    """Strongly connected groups of modules that import each other, TYPE_CHECKING included."""
    import grimp

    graph = grimp.build_graph(package, cache_dir=None)
    modules = set(graph.modules)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm; the graph has about 130 modules
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in graph.find_modules_directly_imported_by(module) & modules:
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            group = [stack.pop()]
            while group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(modules):
        if module not in order:
            visit(module)
    return cycles


def test_the_simulator_has_no_import_cycle() -> None:
    """No two simulator modules know each other, not even for type checking: each room of the
    house (api, world, neighbours, replay) can be read from the bottom up."""
    assert import_cycles("simulator") == []


def test_no_simulator_module_is_over_500_lines() -> None:
    """Modules with one job stay short enough to read in one sitting."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in python_files("simulator")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}
