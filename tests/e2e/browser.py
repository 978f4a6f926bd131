"""Debian's Chromium driven by Playwright, and axe-core for accessibility, for the page tests.

Chromium is the machine's (`apt-get install chromium`, as .ci/run does), never a browser
Playwright downloads. axe-core comes from npm, installed by the machine's npm into the ignored
`.cache/axe/` on first use. Each is skipped with the reason when absent.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "ARTIFACTS",
    "CHROMIUM_ARGS",
    "DESKTOP",
    "PHONE",
    "axe_source",
    "chromium_path",
    "launch",
    "serious_violations",
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
AXE_DIR = ROOT / ".cache" / "axe"
AXE_VERSION = "4.10.3"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Headless and quiet: no GPU, no QUIC, no first-run, no background traffic, no updates, no sync.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Any]:
    """A Chromium context with a fresh user data dir; `new_page(viewport)` gives a page."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian chromium not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=DESKTOP,
        )
        try:
            yield context
        finally:
            context.close()


def axe_source() -> str:
    """axe.min.js, installed with npm into .cache/axe on first use (skips without npm)."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm not installed: the accessibility check needs axe-core from npm")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(AXE_DIR),
                "--no-save",
                "--no-audit",
                "--no-fund",
                f"axe-core@{AXE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or not script.exists():
            pytest.fail(f"npm install axe-core@{AXE_VERSION} failed:\n{done.stderr[-2000:]}")
    return script.read_text(encoding="utf-8")


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each (WCAG 2.1 AA)."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                             'best-practice']},
            resultTypes: ['violations']})"""
    )
    lines = []
    for violation in result["violations"]:
        if violation.get("impact") not in ("serious", "critical"):
            continue
        targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return lines
