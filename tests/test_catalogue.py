"""The catalogue is covered: every tag on a scenario, every step defined, the docs page current."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_CATALOGUE = ROOT.parent / "shared" / "CATALOGUE.md"


def _catalogue_index() -> ModuleType:
    name = "catalogue_index"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "features" / "catalogue_index.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


index = _catalogue_index()


def test_catalogue_lists_every_finding_and_test() -> None:
    """The committed catalogue copy holds finding-01..finding-20 and T001..T024."""
    tags = [entry.tag for entry in index.catalogue_entries()]
    expected = [f"finding-{n:02d}" for n in range(1, 21)] + [f"T{n:03d}" for n in range(1, 25)]
    assert tags == expected


def test_committed_catalogue_matches_the_shared_one() -> None:
    """features/CATALOGUE.md carries the same tags as ../shared/CATALOGUE.md where CI has it."""
    if not SHARED_CATALOGUE.exists():
        pytest.skip(f"no shared catalogue at {SHARED_CATALOGUE} (only CI and the lead have it)")
    shared = index.catalogue_entries(SHARED_CATALOGUE)
    assert index.catalogue_entries() == shared, "copy ../shared/CATALOGUE.md to features/"


def test_every_catalogue_tag_is_on_a_scenario() -> None:
    """A catalogue entry that no scenario proves fails the build, naming the tag."""
    carried = set().union(*(s.tags for s in index.tagged_scenarios()))
    missing = [e.tag for e in index.catalogue_entries() if e.tag not in carried]
    assert not missing, f"catalogue tags on no scenario: {missing}"


def test_every_scenario_proves_some_catalogue_entry() -> None:
    """Each scenario says which finding or test it proves, so coverage stays a grep away."""
    untagged = [f"{s.path}:{s.line} {s.name}" for s in index.tagged_scenarios() if not s.tags]
    assert not untagged, f"scenarios without a catalogue tag: {untagged}"


def test_scenario_tags_are_catalogue_tags() -> None:
    """A typo such as @finding-7 or @T09 is caught instead of silently proving nothing."""
    known = {e.tag for e in index.catalogue_entries()}
    stray = []
    for path in sorted((ROOT / "features").rglob("*.feature")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for word in line.split():
                tag = word.lstrip("@")
                looks_like_ours = tag.startswith(("finding-", "T0", "T1", "T2"))
                if word.startswith("@") and looks_like_ours and tag not in known:
                    stray.append(f"{path.relative_to(ROOT)}:{number} {word}")
    assert not stray, f"unknown catalogue tags: {stray}"


def test_docs_catalogue_page_is_current() -> None:
    """docs/catalogue.md equals what features/catalogue_index.py renders now."""
    expected = index.render(index.catalogue_entries(), index.tagged_scenarios())
    current = index.DOCS_PAGE.read_text(encoding="utf-8")
    assert current == expected, "docs/catalogue.md is stale: run python features/catalogue_index.py"


def test_every_step_has_a_definition() -> None:
    """pytest-bdd's --generate-missing finds no unbound scenario and no undefined step."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--generate-missing",
            "--feature",
            "features",
            "tests/bdd",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    report = result.stdout + result.stderr
    assert "is not defined" not in report, report
    assert "is not bound" not in report, report
    assert result.returncode == 0, report
