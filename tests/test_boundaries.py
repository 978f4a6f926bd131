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
