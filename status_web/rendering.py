"""Server-rendered HTML: the overview, diagnostics and login pages.

Plain strings and `html.escape`, one small inline stylesheet and script, no build step. The
pages must make sense at a glance to a tired admin on a phone: the state in one word and a
colour, then the login link or the one thing in the way and what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape

from appliance.canonical import (
    ActiveOperation,
    ApplianceStatus,
    Blocker,
    EventSummary,
    FluxObject,
    RollupState,
    Tier,
)
from appliance.tier_table import FULL_HEALTH_DESCRIPTION, FULL_HEALTH_LABEL, TIERS, tier_spec
from status_web.assets import PAGE_SCRIPT, STYLESHEET
from status_web.observations import Observation
from status_web.payloads import SUPPORT_BUNDLE_COMMAND, current_phase, status_of

__all__ = [
    "STATE_WORDS",
    "human_duration",
    "render_diagnostics",
    "render_login",
    "render_overview",
    "render_waiting",
]

STATE_WORDS: dict[RollupState, str] = {
    RollupState.INSTALLING: "Installing",
    RollupState.READY: "Ready to log in",
    RollupState.READY_WITH_BACKGROUND_ISSUES: "Ready to log in (background issues)",
    RollupState.FULLY_HEALTHY: "Fully healthy",
    RollupState.FAILED_ACTION_REQUIRED: "Action required",
}

_STATE_CLASS: dict[RollupState, str] = {
    RollupState.INSTALLING: "installing",
    RollupState.READY: "ready",
    RollupState.READY_WITH_BACKGROUND_ISSUES: "warning",
    RollupState.FULLY_HEALTHY: "healthy",
    RollupState.FAILED_ACTION_REQUIRED: "failed",
}


def human_duration(seconds: float) -> str:
    """'45 s', '3 min 12 s', '2 h 5 min': how long, in words a person reads at a glance."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def age_text(seconds: float) -> str:
    """The freshness line's words, also sent over the event stream."""
    return f"updated {human_duration(seconds)} ago"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value.utcoffset() is not None else str(value)


def _page(
    *, title: str, body: str, here: str | None, site_id: str | None, refresh_seconds: int
) -> str:
    nav = ""
    if here is not None:
        nav = (
            '<nav><a href="/" class="{o}">Overview</a>'
            '<a href="/diagnostics" class="{d}">Diagnostics</a></nav>'
        ).format(o="here" if here == "overview" else "", d="here" if here == "diagnostics" else "")
    site = f" &middot; {_e(site_id)}" if site_id else ""
    script = f"<script>{PAGE_SCRIPT}</script>" if here is not None else ""
    noscript = (
        f'<noscript><meta http-equiv="refresh" content="{refresh_seconds}"></noscript>'
        if refresh_seconds > 0
        else ""
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)}</title>{noscript}<style>{STYLESHEET}</style></head>"
        f"<body><header><h1>Appliance status{site}</h1>{nav}</header>"
        f"{body}{script}</body></html>"
    )


def _stale_banner(observation: Observation) -> str:
    status = observation.status
    error = observation.api_error if observation.stale else status.cluster.error
    if not observation.stale and status.cluster.reachable:
        return ""
    return (
        '<section class="stale" role="alert"><strong>Cannot read the cluster right now.</strong>'
        f" Showing the last known state from {_e(human_duration(observation.age_seconds))} ago."
        + (f'<div class="muted">{_e(error)}</div>' if error else "")
        + "</section>"
    )


def _phase_line(status: ApplianceStatus) -> str:
    """The current tier by its name, and what it is waiting for right now (its first reason)."""
    phase = current_phase(status)
    if phase == "complete":
        return ""
    spec = tier_spec(phase)
    tier: Tier = getattr(status.tiers, phase)
    doing = tier.reasons[0] if tier.reasons and not tier.ready else spec.description
    return f'<p class="muted">Current step: {_e(spec.label)}: {_e(doing)}</p>'


def _rollup(status: ApplianceStatus) -> str:
    state = status.rollup.state
    phase_line = _phase_line(status)
    return (
        f'<section class="rollup {_STATE_CLASS[state]}" aria-live="polite">'
        f'<div class="word" id="rollup-state" data-state="{_e(state.value)}">'
        f"{_e(STATE_WORDS[state])}</div>"
        f"<p>{_e(status.rollup.message)}</p>{phase_line}</section>"
    )


def _login(status: ApplianceStatus) -> str:
    url = status.urls.login_url
    if not status.rollup.state.login_ready or not url:
        return ""
    return (
        '<section class="login"><h2>Log in</h2>'
        f'<a class="button" id="login-link" href="{_e(url)}">{_e(url)}</a>'
        "</section>"
    )


def _blocker(blocker: Blocker, *, heading: str, detail: bool) -> str:
    since = f' <span class="muted">since {_e(_when(blocker.since))}</span>' if blocker.since else ""
    component = f" &middot; {_e(blocker.component)}" if blocker.component else ""
    evidence = ""
    if detail and blocker.evidence:
        items = "".join(
            f"<li><code>{_e(ev.object)}</code>: {_e(ev.message)}</li>" for ev in blocker.evidence
        )
        evidence = f'<ul class="muted">{items}</ul>'
    css = "blocker" if blocker.login_blocking else "blocker waiting"
    flags = "blocks login" if blocker.login_blocking else "does not block login"
    if blocker.retryable:
        flags += ", clears on retry"
    return (
        f'<section class="{css}"><h2>{_e(heading)}</h2>'
        f"<strong>{_e(blocker.layer)}</strong>{component}{since}"
        f"<p>{_e(blocker.reason)}</p>"
        f'<div class="next"><strong>Next:</strong> {_e(blocker.next_action)}</div>'
        f'<p class="muted">{_e(flags)}</p>{evidence}</section>'
    )


def _next_action(status: ApplianceStatus) -> str:
    if status.top_blockers or not status.rollup.next_action:
        return ""
    return (
        f'<section><h2>Next</h2><div class="next">{_e(status.rollup.next_action)}</div></section>'
    )


def _tier_item(label: str, tier: Tier, *, mode: str) -> str:
    """One checklist line; `mode` is how an unready tier reads: failed, active or waiting."""
    marks = {
        "ok": ("ok", "&#10003;", "done"),
        "failed": ("todo", "&#10007;", "needs action"),
        "issue": ("issue", "!", "has issues"),
        "active": ("pending", "&#8230;", "in progress"),
        "waiting": ("later", "&#9675;", "waiting"),
    }
    css, mark, word = marks["ok" if tier.ready else mode]
    reasons = (
        '<div class="reasons">' + "<br>".join(_e(r) for r in tier.reasons) + "</div>"
        if tier.reasons and not tier.ready
        else ""
    )
    return (
        f'<li class="{css}"><span class="mark" title="{word}" aria-label="{word}">{mark}</span>'
        f'<span class="label">{_e(label)}{reasons}</span></li>'
    )


def _tiers(status: ApplianceStatus) -> str:
    state = status.rollup.state
    phase = current_phase(status)
    items = []
    for spec in TIERS:
        name = spec.name
        tier: Tier = getattr(status.tiers, name)
        if not spec.gates_login:
            # Background never gates login: it is in progress, or has issues once login works.
            if state is RollupState.READY_WITH_BACKGROUND_ISSUES:
                mode = "issue"
            else:
                mode = "active" if state.login_ready else "waiting"
        elif name == phase:
            mode = "failed" if state is RollupState.FAILED_ACTION_REQUIRED else "active"
        else:
            # A tier behind the current one is waiting its turn, not failing.
            mode = "waiting"
        items.append(_tier_item(spec.title, tier, mode=mode))
    return f'<section><h2>Progress</h2><ul class="checklist">{"".join(items)}</ul></section>'


def _operations(operations: Iterable[ActiveOperation]) -> str:
    rows = []
    for op in operations:
        size = f", {_e(op.estimated_size)}" if op.estimated_size else ""
        rows.append(
            f"<li><strong>{_e(op.component)}</strong>: pulling <code>{_e(op.image)}</code>"
            f" &middot; {_e(human_duration(op.elapsed_seconds))} so far{size}"
            f'<div class="muted">{_e(op.note)}</div></li>'
        )
    if not rows:
        return ""
    return f'<section><h2>In progress</h2><ul class="events">{"".join(rows)}</ul></section>'


def _newest(events: Iterable[EventSummary]) -> list[EventSummary]:
    def key(event: EventSummary) -> float:
        return event.timestamp.timestamp() if event.timestamp is not None else float("-inf")

    return sorted(events, key=key, reverse=True)


def _events(events: Iterable[EventSummary], *, limit: int | None) -> str:
    newest = _newest(events)
    if limit is not None:
        newest = newest[:limit]
    if not newest:
        return '<section><h2>Latest events</h2><p class="muted">No events yet.</p></section>'
    rows = []
    for event in newest:
        warn = ' class="warn"' if event.type == "Warning" else ""
        count = f" (x{event.count})" if event.count and event.count > 1 else ""
        rows.append(
            f'<li><span class="muted">{_e(_when(event.timestamp))}</span> '
            f"<span{warn}>{_e(event.reason or '')}</span> <code>{_e(event.object)}</code>"
            f"{_e(count)}<br>{_e(event.message)}</li>"
        )
    return f'<section><h2>Latest events</h2><ul class="events">{"".join(rows)}</ul></section>'


def _footer(observation: Observation) -> str:
    status = observation.status
    return (
        f'<footer><span id="age">{_e(age_text(observation.age_seconds))}</span>'
        f" &middot; cluster time {_e(_when(status.timestamp))}"
        ' &middot; <a href="/api/status">JSON</a></footer>'
    )


def render_overview(observation: Observation, *, refresh_seconds: int = 10) -> str:
    """The overview page: rollup, login link, the top blocker, tiers, pulls, newest events."""
    status = status_of(observation)
    blocker = (
        _blocker(status.top_blockers[0], heading="What is in the way", detail=False)
        if status.top_blockers
        else ""
    )
    body = (
        f'<main data-version="{observation.version}">'
        + _stale_banner(observation)
        + _rollup(status)
        + _login(status)
        + blocker
        + _next_action(status)
        + _operations(status.active_operations)
        + _tiers(status)
        + _events(status.recent_events, limit=5)
        + _footer(observation)
        + "</main>"
    )
    return _page(
        title=f"{STATE_WORDS[status.rollup.state]} - appliance status",
        body=body,
        here="overview",
        site_id=status.site_id,
        refresh_seconds=refresh_seconds,
    )


def _components(status: ApplianceStatus) -> str:
    rows = []
    for c in sorted(status.components, key=lambda c: (c.tier, c.name)):
        replicas = (
            f"{c.ready_replicas if c.ready_replicas is not None else '?'}/{c.replicas}"
            if c.replicas is not None
            else ""
        )
        mark = (
            '<span class="ok">&#10003;</span>' if c.ready else '<span class="warn">&#10007;</span>'
        )
        rows.append(
            f"<tr><td>{mark}</td><td>{_e(c.name)}</td><td>{_e(c.tier)}</td>"
            f"<td>{_e(c.kind or '')}</td><td>{_e(replicas)}</td><td>{_e(c.message or '')}</td></tr>"
        )
    if not rows:
        return '<section><h2>Components</h2><p class="muted">None found yet.</p></section>'
    return (
        '<section><h2>Components</h2><div class="scroll"><table><thead><tr><th></th>'
        "<th>Name</th><th>Tier</th>"
        "<th>Kind</th><th>Ready</th><th>Message</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div></section>"
    )


def _flux_rows(objects: Iterable[FluxObject | None]) -> str:
    rows = []
    for obj in objects:
        if obj is None:
            continue
        ready = {True: "Ready", False: "Not ready", None: "Unknown"}[obj.ready]
        rows.append(
            f"<tr><td>{_e(obj.kind)}</td><td>{_e(obj.name)}</td><td>{_e(ready)}</td>"
            f"<td>{_e(obj.reason or '')}</td><td>{_e(obj.message or '')}</td>"
            f"<td><code>{_e(obj.revision or '')}</code></td></tr>"
        )
    return "".join(rows)


def _flux(status: ApplianceStatus) -> str:
    rows = _flux_rows([status.flux.source, *status.flux.kustomizations, *status.flux.helm_releases])
    if not rows:
        return '<section><h2>Flux</h2><p class="muted">No Flux objects found yet.</p></section>'
    return (
        '<section><h2>Flux</h2><div class="scroll"><table><thead><tr><th>Kind</th>'
        "<th>Name</th><th>State</th>"
        "<th>Reason</th><th>Message</th><th>Revision</th></tr></thead><tbody>"
        + rows
        + "</tbody></table></div></section>"
    )


def _probe_and_bootstrap(status: ApplianceStatus) -> str:
    probe = status.login_probe
    if not probe.attempted:
        probe_text = "not attempted yet"
    elif probe.ok:
        probe_text = f"answered HTTP {probe.status_code}" + (
            f" (to {probe.location})" if probe.location else ""
        )
    else:
        probe_text = f"failed: {probe.error or probe.status_code}"
    seed = status.bootstrap.seed
    users = "not measured" if seed.users_count is None else str(seed.users_count)
    job = status.bootstrap.job
    release = status.release
    api_word = "answering" if status.cluster.reachable else "not answering"
    return (
        '<section><h2>Login probe, bootstrap, release</h2><div class="scroll"><table><tbody>'
        f"<tr><th>Login probe</th><td>{_e(probe.url or '')} {_e(probe_text)}</td></tr>"
        f"<tr><th>Bootstrap job</th><td>{_e(job.name or '-')}: {_e(job.state.value)}"
        f" {_e(job.message or '')}</td></tr>"
        f"<tr><th>Seeded users</th><td>{_e(users)} {_e(seed.note or '')}</td></tr>"
        f"<tr><th>Release</th><td>{_e(release.selected_release_version or '-')}"
        f" (app {_e(release.app_version or '-')}, git {_e(release.git_revision or '-')})</td></tr>"
        f"<tr><th>Kubernetes API</th><td>{api_word}"
        f" {_e(status.cluster.error or '')}</td></tr>"
        "</tbody></table></div></section>"
    )


def _tier_details(status: ApplianceStatus) -> str:
    items = []
    labels = (
        *((spec.name, spec.title) for spec in TIERS),
        ("full_health", f"{FULL_HEALTH_LABEL}: {FULL_HEALTH_DESCRIPTION}"),
    )
    for name, label in labels:
        tier: Tier = getattr(status.tiers, name)
        items.append(_tier_item(label, tier, mode="failed"))
    return f'<section><h2>Readiness tiers</h2><ul class="checklist">{"".join(items)}</ul></section>'


def render_diagnostics(observation: Observation, *, refresh_seconds: int = 15) -> str:
    """The diagnostics page: every tier, blocker, component, Flux object and event."""
    status = status_of(observation)
    blockers = "".join(
        _blocker(b, heading=f"Blocker {i}", detail=True)
        for i, b in enumerate(status.top_blockers, start=1)
    )
    body = (
        f'<main data-version="{observation.version}">'
        + _stale_banner(observation)
        + _rollup(status)
        + (blockers or '<section><h2>Blockers</h2><p class="muted">None.</p></section>')
        + _tier_details(status)
        + _operations(status.active_operations)
        + _components(status)
        + _probe_and_bootstrap(status)
        + _flux(status)
        + _events(status.recent_events, limit=None)
        + "<section><h2>Support bundle</h2><p>On a machine with the appliance kubeconfig:</p>"
        f"<pre>{_e(SUPPORT_BUNDLE_COMMAND)}</pre>"
        '<p class="muted">Then <code>appliance status --from-dump appliance-dump.json</code> '
        "reads it offline.</p></section>" + _footer(observation) + "</main>"
    )
    return _page(
        title="Diagnostics - appliance status",
        body=body,
        here="diagnostics",
        site_id=status.site_id,
        refresh_seconds=refresh_seconds,
    )


def render_waiting(*, here: str, refresh_seconds: int = 5) -> str:
    """Shown before the first reading of the cluster completes."""
    body = (
        '<main data-version="0"><section class="rollup installing">'
        '<div class="word" id="rollup-state" data-state="starting">Starting</div>'
        "<p>The status service is reading the cluster for the first time. "
        "This page refreshes by itself.</p></section></main>"
    )
    return _page(
        title="Starting - appliance status",
        body=body,
        here=here,
        site_id=None,
        refresh_seconds=refresh_seconds,
    )


def render_login(*, next_path: str, error: str | None = None) -> str:
    """The login form: paste the token the bootstrapper printed."""
    message = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
    body = (
        "<main><section><h2>Sign in</h2>"
        "<p>Enter the status token. The bootstrapper printed it together with the status URL; "
        "it is also in the Secret <code>appliance-status-auth</code> in namespace "
        "<code>appliance-system</code>.</p>"
        f"{message}"
        '<form method="post" action="/login">'
        '<label for="token">Status token</label>'
        '<input type="password" id="token" name="token" autocomplete="current-password" '
        "autofocus required>"
        f'<input type="hidden" name="next" value="{_e(next_path)}">'
        '<button type="submit">Sign in</button></form></section></main>'
    )
    return _page(
        title="Sign in - appliance status",
        body=body,
        here=None,
        site_id=None,
        refresh_seconds=0,
    )
