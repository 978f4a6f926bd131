"""Server-rendered HTML: the overview, diagnostics, login and first-reading pages.

Jinja2 templates in `status_web/templates/` through Litestar's template engine, with
autoescaping on: everything the cluster says (messages, names, events) is text, never markup.
This module turns an observation into what the templates show; the templates decide how.

The pages must make sense at a glance to a tired admin on a phone: the state in one word and a
colour, then the login link or the one thing in the way and what to do about it, then the
install as a timeline.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from datetime import datetime
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from appliance.canonical import ActiveOperation, ApplianceStatus, Blocker, Component, RollupState
from appliance.tier_table import FULL_HEALTH_DESCRIPTION, FULL_HEALTH_LABEL, TIERS, tier_spec
from appliance.words import STATE_WORDS, blocker_impact, blocker_title, human_elapsed
from status_web.observations import Observation
from status_web.payloads import SUPPORT_BUNDLE_COMMAND, current_phase, status_of
from status_web.timeline import build_timeline, tier_modes

if TYPE_CHECKING:
    from litestar.plugins.jinja import JinjaTemplateEngine
    from markupsafe import Markup

__all__ = [
    "STATE_WORDS",
    "age_text",
    "render_diagnostics",
    "render_login",
    "render_overview",
    "render_waiting",
    "script_source_hash",
]

_STATE_CLASS: dict[RollupState, str] = {
    RollupState.INSTALLING: "installing",
    RollupState.READY: "ready",
    RollupState.READY_WITH_BACKGROUND_ISSUES: "warning",
    RollupState.FULLY_HEALTHY: "healthy",
    RollupState.FAILED_ACTION_REQUIRED: "failed",
}
# A section with more rows than this starts folded (the admin can open it; it stays open).
_FOLD_AFTER = 8


@functools.cache
def _engine() -> JinjaTemplateEngine:
    # Jinja2 is imported with the first page (~17 ms of CPU): a status service whose clients
    # only read the API, as the bootstrapper and the tests do, never renders one.
    from jinja2 import Environment, PackageLoader, StrictUndefined
    from litestar.plugins.jinja import JinjaTemplateEngine

    environment = Environment(
        loader=PackageLoader("status_web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,  # a misspelt name is an error in tests, not a blank on a page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["duration"] = human_elapsed
    environment.filters["when"] = _when
    environment.globals.update(
        blocker_title=blocker_title,
        blocker_impact=blocker_impact,
        fold_after=_FOLD_AFTER,
        # The stylesheet and script are files beside the templates, inlined as they are: one
        # request per page, and no template syntax to trip over in CSS braces.
        page_css=_asset("page.css"),
        live_js=_asset("live.js"),
    )
    return JinjaTemplateEngine(engine_instance=environment)


def _asset(name: str) -> Markup:
    from markupsafe import Markup

    return Markup(_asset_text(name))  # noqa: S704 - a file of this package, never cluster text


def _asset_text(name: str) -> str:
    return (files("status_web") / "templates" / name).read_text(encoding="utf-8")


@functools.cache
def script_source_hash() -> str:
    """The page script's CSP source (`'sha256-...'`): the pages inline live.js as it is, and a
    policy that names its hash lets that one script run and no other inline script, where
    `'unsafe-inline'` would let any injected one run too."""
    digest = hashlib.sha256(_asset_text("live.js").encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _render(template: str, **context: Any) -> str:
    return _engine().get_template(template).render(**context)


def age_text(seconds: float) -> str:
    """The freshness line's words, also sent over the event stream."""
    return f"updated {human_elapsed(seconds)} ago"


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value.utcoffset() is not None else str(value)


def _stale_text(observation: Observation, status: ApplianceStatus) -> str | None:
    """`cannot reach the Kubernetes API at URL: connection refused, last good state 42s ago`."""
    if observation.stale:
        error = observation.api_error or "the Kubernetes API does not answer"
        return f"{error}, last good state {human_elapsed(observation.age_seconds)} ago"
    if not status.cluster.reachable:
        return f"{status.cluster.error or 'the Kubernetes API does not answer'}; no good state yet"
    return None


def _phase_line(status: ApplianceStatus) -> str | None:
    """The current tier by its name, and what it is waiting for right now (its first reason)."""
    phase = current_phase(status)
    if phase == "complete":
        return None
    spec = tier_spec(phase)
    tier = getattr(status.tiers, phase)
    doing = tier.reasons[0] if tier.reasons and not tier.ready else spec.description
    return f"{spec.label}: {doing}"


def _pull(op: ActiveOperation) -> dict[str, Any]:
    """One image pull: elapsed against the yardstick, in words and as a bar."""
    expected = op.expected_seconds
    share = min(op.elapsed_seconds / expected, 1.0) if expected else None
    if expected is None:
        pace = "no size known, so no expected time"
    elif op.elapsed_seconds <= expected:
        pace = f"about {human_elapsed(expected)} expected for {op.estimated_size}"
    else:
        pace = (
            f"longer than the {human_elapsed(expected)} expected for {op.estimated_size}; "
            "a slow link or registry"
        )
    return {
        "op": op,
        "percent": round(share * 100, 1) if share is not None else None,
        "late": expected is not None and op.elapsed_seconds > expected,
        "pace": pace,
    }


def _common(observation: Observation) -> dict[str, Any]:
    status = status_of(observation)
    phase = current_phase(status)
    return {
        "observation": observation,
        "status": status,
        "state_words": STATE_WORDS[status.rollup.state],
        "state_class": _STATE_CLASS[status.rollup.state],
        "phase_line": _phase_line(status),
        "stale_text": _stale_text(observation, status),
        "modes": tier_modes(status, phase),
        "tiers": TIERS,
        "pulls": [_pull(op) for op in status.active_operations],
        "age": age_text(observation.age_seconds),
        "install_elapsed": (
            human_elapsed((status.timestamp - status.install_started).total_seconds())
            if status.install_started
            else None
        ),
        "timeline": build_timeline(status, phase),
        "site_id": status.site_id,
    }


def render_overview(observation: Observation, *, refresh_seconds: int = 10) -> str:
    """The overview page: rollup, login link, the top blocker, pulls, timeline, tiers, events."""
    context = _common(observation)
    status: ApplianceStatus = context["status"]
    return _render(
        "overview.html",
        here="overview",
        refresh_seconds=refresh_seconds,
        title=f"{context['state_words']} - appliance status",
        top=status.top_blockers[0] if status.top_blockers else None,
        events=_newest(status)[:5],
        **context,
    )


def _component_mark(component: Component) -> str:
    """ok, succeeded (a Job's pod that ran to completion) or not."""
    if component.kind in ("Pod", "Job") and (component.message or "").startswith("Succeeded"):
        return "succeeded"
    return "ok" if component.ready else "not-ready"


def _group(blockers: list[Blocker]) -> list[tuple[str, list[Blocker]]]:
    """Blockers first, then background issues: two headed lists, empty ones left out."""
    blocking = [b for b in blockers if b.login_blocking]
    background = [b for b in blockers if not b.login_blocking]
    groups = (("Blockers", blocking), ("Background issues", background))
    return [(title, group) for title, group in groups if group]


def render_diagnostics(observation: Observation, *, refresh_seconds: int = 15) -> str:
    """The diagnostics page: every tier, blocker, component, Flux object and event."""
    context = _common(observation)
    status: ApplianceStatus = context["status"]
    flux = [status.flux.source, *status.flux.kustomizations, *status.flux.helm_releases]
    return _render(
        "diagnostics.html",
        here="diagnostics",
        refresh_seconds=refresh_seconds,
        title="Diagnostics - appliance status",
        groups=_group(status.top_blockers),
        components=[(c, _component_mark(c)) for c in status.components],
        flux=[obj for obj in flux if obj is not None],
        events=_newest(status),
        tier_rows=[
            *(
                (spec.title, getattr(status.tiers, spec.name), context["modes"][spec.name])
                for spec in TIERS
            ),
            (
                f"{FULL_HEALTH_LABEL}: {FULL_HEALTH_DESCRIPTION}",
                status.tiers.full_health,
                _full_health_mode(status),
            ),
        ],
        support_bundle=SUPPORT_BUNDLE_COMMAND,
        **context,
    )


def _full_health_mode(status: ApplianceStatus) -> str:
    if status.tiers.full_health.ready:
        return "ok"
    if status.rollup.state is RollupState.READY_WITH_BACKGROUND_ISSUES:
        return "issue"
    return "failed" if status.rollup.state is RollupState.FAILED_ACTION_REQUIRED else "waiting"


def _newest(status: ApplianceStatus) -> list[Any]:
    def key(event: Any) -> float:
        stamp: datetime | None = event.timestamp
        return stamp.timestamp() if stamp is not None else float("-inf")

    return sorted(status.recent_events, key=key, reverse=True)


def render_waiting(*, here: str, refresh_seconds: int = 5) -> str:
    """Shown before the first reading of the cluster completes."""
    return _render(
        "waiting.html",
        here=here,
        refresh_seconds=refresh_seconds,
        title="Starting - appliance status",
        site_id=None,
    )


def render_login(*, next_path: str, error: str | None = None) -> str:
    """The login form: paste the token the bootstrapper printed, or open its sign-in link."""
    return _render(
        "login.html",
        here=None,
        refresh_seconds=0,
        title="Sign in - appliance status",
        site_id=None,
        next_path=next_path,
        error=error,
    )
