"""Debian's Chromium driven by Playwright, and axe-core for accessibility, for the page tests.

Chromium is the machine's (`apt-get install chromium`, as .ci/run does), never a browser
Playwright downloads. axe-core comes from npm: the version and its checksum are pinned by our
tests/e2e/axe/package-lock.json, and `npm ci` installs it into the ignored `.cache/axe/` on first
use (downloaded packages are never committed). Without chromium or npm the tests skip with the
reason; CI sets APPLIANCE_REQUIRE_BROWSER and a missing one then fails instead.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

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
AXE_PIN = Path(__file__).resolve().parent / "axe"  # our package.json + package-lock.json
AXE_DIR = ROOT / ".cache" / "axe"
REQUIRED_ENV = "APPLIANCE_REQUIRE_BROWSER"
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


def absent(reason: str) -> NoReturn:
    """Skip for a developer without the tool; fail in CI, where the browser tests must run."""
    if os.environ.get(REQUIRED_ENV, "") not in ("", "0"):
        pytest.fail(f"{reason} ({REQUIRED_ENV} is set)")
    pytest.skip(reason)


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
        absent("Debian chromium not installed (apt-get install -y chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        absent("playwright not installed (pip install -e '.[dev]')")
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
    """axe.min.js at the locked version, installed by `npm ci` into .cache/axe when missing."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    # pytest-xdist workers may ask at once: one installs, the others wait and read its result.
    with (AXE_DIR.parent / "axe.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install_axe(script)
    return script.read_text(encoding="utf-8")


def _install_axe(script: Path) -> None:
    lock = (AXE_PIN / "package-lock.json").read_text(encoding="utf-8")
    installed = AXE_DIR / "package-lock.json"
    if script.exists() and installed.exists() and installed.read_text("utf-8") == lock:
        return
    npm = shutil.which("npm")
    if npm is None:
        absent("npm not installed: the accessibility check needs axe-core from npm")
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(AXE_PIN / name, AXE_DIR / name)
    done = subprocess.run(
        [npm, "ci", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not script.exists():
        pytest.fail(f"npm ci of axe-core into {AXE_DIR} failed:\n{done.stderr[-2000:]}")


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each (WCAG 2.1 AA)."""
    # Evaluated, not added as a <script>: the pages' policy lets only their own script run.
    page.evaluate(axe_source())
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
