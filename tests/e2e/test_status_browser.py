"""The status page in a real browser: Chromium at 1280x900 and 390x844, live updates, the login
form, an accessibility check (axe-core) and screenshots in artifacts/ for a person to look at.

Uses Debian's chromium through Playwright; skips when it is absent (see tests/e2e/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from status_web.app import create_app
from status_web.observations import MutableProvider
from status_web.serving import BackgroundServer
from tests.e2e.browser import ARTIFACTS, DESKTOP, PHONE, launch, serious_violations
from tests.unit.status_web.samples import LOGIN_URL, failed, install_story, ready

__all__ = ["launch"]  # the fixture, imported for pytest

TOKEN = "browser-token-42"
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def provider() -> MutableProvider:
    return MutableProvider(install_story()[0])  # installing, at the story's first minute


@pytest.fixture
def server(provider: MutableProvider) -> Iterator[BackgroundServer]:
    app = create_app(provider=provider, token=TOKEN, events_poll_seconds=0.05)
    with BackgroundServer(app, token=TOKEN, log_level="warning") as running:
        yield running


def _page(launch: Any, viewport: dict[str, int]) -> Any:
    page = launch.new_page()
    page.set_viewport_size(viewport)
    return page


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_rollup_turns_ready_live(
    server: BackgroundServer, provider: MutableProvider, launch: Any
) -> None:
    """The open page follows the status from installing to ready, without a reload."""
    page = _page(launch, DESKTOP)
    refusals: list[str] = []
    page.on("console", lambda message: refusals.append(message.text))
    page.goto(f"{server.url}/?token={TOKEN}")
    assert "token" not in page.url
    state = page.locator("#rollup-state")
    assert state.get_attribute("data-state") == "installing"
    assert page.locator("#login-link").count() == 0
    page.evaluate("window.__sameDocument = true")

    provider.set(ready())
    page.wait_for_selector('#rollup-state[data-state="ready"]', timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True  # updated live, not reloaded
    assert page.locator("#login-link").get_attribute("href") == LOGIN_URL
    # The policy let the page's own script run (above) and refuses one injected into it.
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__injected = true'; document.body.append(s); }"""
    )
    assert page.evaluate("window.__injected === undefined") is True
    csp = [m for m in refusals if "Content Security Policy" in m]
    assert len(csp) == 1, csp  # the injected one, not the page's own

    provider.set(failed())
    page.goto(f"{server.url}/diagnostics")
    assert page.locator("#rollup-state").get_attribute("data-state") == "failed_action_required"


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
@pytest.mark.parametrize("where", ["overview", "diagnostics"])
def test_pages_fit_read_and_pass_the_accessibility_check(
    server: BackgroundServer, provider: MutableProvider, launch: Any, where: str, size: str
) -> None:
    """A whole install later: no sideways scrolling, the timeline and pull visible, every table
    word whole, and no serious axe-core violation; the screenshot goes to artifacts/."""
    viewport = VIEWPORTS[size]
    story = install_story()
    for status in story[1:3]:  # the core image is pulling
        provider.set(status)
    page = _page(launch, viewport)
    page.goto(f"{server.url}/{'' if where == 'overview' else where}?token={TOKEN}")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert page.locator(".timeline .bar-row").count() == 5
    assert page.locator(".pull-bar").count() == 1
    _shot(page, f"status-{where}-installing-{viewport['width']}x{viewport['height']}")
    assert serious_violations(page) == []

    for status in story[3:]:  # login works; a background tag is missing
        provider.set(status)
    page.reload()
    page.wait_for_selector('#rollup-state[data-state="ready_with_background_issues"]')
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    if where == "diagnostics":
        # Table cells wrap between words only: no cell is narrower than its longest word.
        broken = page.evaluate(
            """() => [...document.querySelectorAll('td.nowrap')]
                .filter(td => td.scrollWidth > td.clientWidth + 1).length"""
        )
        assert broken == 0
    _shot(page, f"status-{where}-ready-{viewport['width']}x{viewport['height']}")
    assert serious_violations(page) == []


def test_the_accessibility_check_finds_what_it_should(launch: Any) -> None:
    """The check is not a formality: an unlabelled field and an image without text fail it."""
    page = _page(launch, DESKTOP)
    page.set_content('<html lang="en"><body><main><img src="x.png"><input></main></body></html>')
    found = " ".join(serious_violations(page))
    assert "image-alt" in found
    assert "label" in found


def test_login_form_in_browser(server: BackgroundServer, launch: Any) -> None:
    """Without the sign-in link, the admin pastes the token into the form and lands on the page;
    the form passes the accessibility check on a phone."""
    page = _page(launch, PHONE)
    page.goto(f"{server.url}/diagnostics")
    _shot(page, "status-login-390x844")
    assert serious_violations(page) == []
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("#rollup-state")
    assert page.url.endswith("/diagnostics")


def test_folded_sections_stay_as_the_admin_left_them(
    server: BackgroundServer, provider: MutableProvider, launch: Any
) -> None:
    """A live refresh swaps the page's content but keeps what the admin folded or opened."""
    page = _page(launch, DESKTOP)
    page.goto(f"{server.url}/diagnostics?token={TOKEN}")
    page.click("#fold-readiness > summary")
    assert page.evaluate("document.getElementById('fold-readiness').open") is False
    before = page.locator("main").get_attribute("data-version")
    provider.set(failed())
    page.wait_for_function(
        "(before) => document.querySelector('main').getAttribute('data-version') !== before",
        arg=before,
    )
    assert page.locator("#rollup-state").get_attribute("data-state") == "failed_action_required"
    assert page.evaluate("document.getElementById('fold-readiness').open") is False


LOGIN_READY_STATES = ("ready", "ready_with_background_issues", "fully_healthy")


def test_scenario_drives_rollup_to_ready(launch: Any, tmp_path: Path) -> None:
    """The happy-path scenario, served: the real collector on watches turns the page ready, and
    the timeline it draws comes from the history the service kept."""
    from appliance.cluster.connecting import connect
    from appliance.cluster.watching import WatchCache
    from simulator.world.served import ServedWorld
    from status_web.collecting import Collector

    root = Path(__file__).resolve().parents[2]
    # Slow enough that installing lasts ~15 s of wall time while the browser starts.
    world = ServedWorld.from_scenario(root / "scenarios" / "happy-path.yaml", speed=40)
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
            page = _page(launch, DESKTOP)
            page.goto(f"{server.url}/?token={TOKEN}")
            page.wait_for_selector('#rollup-state[data-state="installing"]', timeout=15_000)
            _shot(page, "scenario-installing-1280x900")
            ready_now = ", ".join(f'#rollup-state[data-state="{s}"]' for s in LOGIN_READY_STATES)
            page.wait_for_selector(ready_now, timeout=90_000)
            assert page.locator("#login-link").get_attribute("href") == world.app_url
            assert page.locator(".timeline .seg").count() >= 2  # installing, then ready
            _shot(page, "scenario-ready-1280x900")
    finally:
        collector.stop()
        cache.stop()
        cluster.close()
        world.stop()
