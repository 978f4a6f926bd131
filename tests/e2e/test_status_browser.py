"""Headless Chromium opens the status page with the token and watches installing turn ready.

Uses Debian's chromium (`apt-get install chromium`) through Playwright; skips when it is absent.
Screenshots of both pages (desktop and phone) land in artifacts/ for a human to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from status_web.app import create_app
from status_web.observations import MutableProvider
from status_web.serving import BackgroundServer
from tests.unit.status_web.samples import LOGIN_URL, failed, installing, ready

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TOKEN = "browser-token-42"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and shutil.which("chromium") is None,
    reason="Debian chromium not installed (apt-get install -y chromium)",
)


@pytest.fixture
def provider() -> MutableProvider:
    return MutableProvider(installing())


@pytest.fixture
def server(provider: MutableProvider) -> Iterator[BackgroundServer]:
    app = create_app(provider=provider, token=TOKEN, events_poll_seconds=0.05)
    with BackgroundServer(app, token=TOKEN, log_level="warning") as running:
        yield running


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            launched.close()


def test_rollup_turns_ready_live(
    server: BackgroundServer, provider: MutableProvider, browser: Any
) -> None:
    """The open page follows the status from installing to ready, without a reload."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 1100})
    page.goto(f"{server.url}/?token={TOKEN}")
    assert "token" not in page.url
    state = page.locator("#rollup-state")
    assert state.get_attribute("data-state") == "installing"
    assert page.locator("#login-link").count() == 0
    page.screenshot(path=str(ARTIFACTS / "status-overview-installing.png"), full_page=True)
    page.evaluate("window.__sameDocument = true")

    provider.set(ready())
    page.wait_for_selector('#rollup-state[data-state="ready"]', timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True  # updated live, not reloaded
    assert page.locator("#login-link").get_attribute("href") == LOGIN_URL
    page.screenshot(path=str(ARTIFACTS / "status-overview-ready.png"), full_page=True)

    provider.set(failed())
    page.goto(f"{server.url}/diagnostics")
    assert page.locator("#rollup-state").get_attribute("data-state") == "failed_action_required"
    page.screenshot(path=str(ARTIFACTS / "status-diagnostics.png"), full_page=True)


def test_phone_layout(server: BackgroundServer, provider: MutableProvider, browser: Any) -> None:
    """On a phone-sized screen the page fits the width (no sideways scrolling)."""
    ARTIFACTS.mkdir(exist_ok=True)
    provider.set(failed())
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.goto(f"{server.url}/?token={TOKEN}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.screenshot(path=str(ARTIFACTS / "status-overview-phone.png"), full_page=True)
    page.goto(f"{server.url}/diagnostics")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "status-diagnostics-phone.png"), full_page=True)


def test_login_form_in_browser(server: BackgroundServer, browser: Any) -> None:
    """Without the token link, the admin pastes the token into the form and lands on the page."""
    page = browser.new_page()
    page.goto(f"{server.url}/diagnostics")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("#rollup-state")
    assert page.url.endswith("/diagnostics")


LOGIN_READY_STATES = ("ready", "ready_with_background_issues", "fully_healthy")


def test_scenario_drives_rollup_to_ready(browser: Any, tmp_path: Path) -> None:
    """The happy-path scenario, served: the real collector on watches turns the page ready."""
    from appliance.cluster.connecting import connect
    from appliance.cluster.watching import WatchCache
    from simulator.neighbours.addresses import choose_node_address
    from simulator.world.served import ServedWorld
    from status_web.collecting import Collector

    root = Path(__file__).resolve().parents[2]
    # Slow enough that installing lasts ~15 s of wall time while the browser starts.
    world = ServedWorld.from_scenario(
        root / "scenarios" / "happy-path.yaml", speed=40, node_ip=choose_node_address()
    )
    world.start()
    assert world.kubeconfig_path is not None
    cluster = connect(world.kubeconfig_path)
    cache = WatchCache(cluster)
    collector = Collector(
        cache, site_id="happy-path", app_url=world.app_url, interval=1.0, probe_interval=0.5
    )
    cache.start()
    collector.start()
    app = create_app(provider=collector, token=TOKEN, events_poll_seconds=0.1)
    try:
        with BackgroundServer(app, token=TOKEN, log_level="warning") as server:
            ARTIFACTS.mkdir(exist_ok=True)
            page = browser.new_page(viewport={"width": 1100, "height": 1100})
            page.goto(f"{server.url}/?token={TOKEN}")
            page.wait_for_selector('#rollup-state[data-state="installing"]', timeout=15_000)
            page.screenshot(path=str(ARTIFACTS / "scenario-installing.png"), full_page=True)
            ready = ", ".join(f'#rollup-state[data-state="{s}"]' for s in LOGIN_READY_STATES)
            page.wait_for_selector(ready, timeout=90_000)
            assert page.locator("#login-link").get_attribute("href") == world.app_url
            page.screenshot(path=str(ARTIFACTS / "scenario-ready.png"), full_page=True)
    finally:
        collector.stop()
        cache.stop()
        cluster.close()
        world.stop()
