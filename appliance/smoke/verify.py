"""`smoke verify`: checks on an installed appliance (T021-T023), real or simulated.

- T021: the app URL answers; seeded users > 0 (psql in db-0).
- T022: the status API's rollup is `ready_with_background_issues` with the workflow-worker
  missing tag as a background issue, not blocking login (the observed rc5 release; pass
  `--expect-rollup` for another release).
- T023: Temporal runs `autosetup`; `enableServiceLinks: false` on Temporal and Temporal UI; both
  have ready replicas.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.plain_http import HTTPError, PlainHttp, failure_text
from appliance.smoke.monitor import status_api_url

__all__ = ["Check", "settled", "verify"]

_MISSING_TAG_LAYER = "Image tag availability"


@dataclass(frozen=True)
class Check:
    """One named assertion and what was seen."""

    test: str
    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return asdict(self)


def _temporal_checks(read_deployment: Callable[[str], dict[str, Any] | None]) -> list[Check]:
    checks: list[Check] = []
    for name in ("temporal", "temporal-ui"):
        deployment = read_deployment(name)
        if deployment is None:
            checks.append(Check("T023", f"{name} deployment exists", False, "not found in msp"))
            continue
        pod = deployment.get("spec", {}).get("template", {}).get("spec", {})
        links = pod.get("enableServiceLinks")
        checks.append(
            Check(
                "T023",
                f"{name} enableServiceLinks false",
                links is False,
                f"enableServiceLinks={links}",
            )
        )
        if name == "temporal":
            words = [
                w
                for c in pod.get("containers", [])
                for w in (c.get("command") or []) + (c.get("args") or [])
            ]
            checks.append(
                Check(
                    "T023",
                    "temporal runs autosetup",
                    any("autosetup" in str(w) for w in words),
                    f"command: {' '.join(map(str, words)) or '(image default)'}",
                )
            )
        ready = (deployment.get("status") or {}).get("readyReplicas") or 0
        checks.append(Check("T023", f"{name} ready replicas", ready >= 1, f"readyReplicas={ready}"))
    return checks


def _status_checks(
    status: dict[str, Any] | None, error: str | None, expect_rollup: str
) -> list[Check]:
    if status is None:
        return [Check("T022", "status API answers", False, error or "no answer")]
    state = (status.get("rollup") or {}).get("state")
    checks = [
        Check("T022", f"rollup is {expect_rollup}", state == expect_rollup, f"rollup={state}")
    ]
    if expect_rollup == "ready_with_background_issues":
        blockers = status.get("topBlockers") or []
        match = [
            b
            for b in blockers
            if b.get("component") == "workflow-worker" and b.get("layer") == _MISSING_TAG_LAYER
        ]
        checks.append(
            Check(
                "T022",
                "workflow-worker missing tag is a background issue (does not block login)",
                bool(match) and all(b.get("loginBlocking") is False for b in match),
                "; ".join(
                    f"{b.get('layer')}: {b.get('reason')} (loginBlocking={b.get('loginBlocking')})"
                    for b in match
                )
                or f"not among {len(blockers)} blockers and background issues",
            )
        )
    return checks


def _fetch_status(url: str, token: str, timeout: float) -> tuple[dict[str, Any] | None, str | None]:
    try:
        with PlainHttp(timeout=timeout, follow_redirects=False, trust_env=False) as http:
            answer = http.request(
                "GET", status_api_url(url), headers={"Authorization": f"Bearer {token}"}
            )
    except HTTPError as exc:
        return None, failure_text(exc)
    if answer.status != 200:
        return None, f"HTTP {answer.status}"
    try:
        data = answer.json()
    except ValueError:
        return None, "answer is not JSON"
    return (data if isinstance(data, dict) else None), None


def settled(
    round_: Callable[[], list[Check]],
    settle: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[Check]:
    """The checks of `round_`, asked again every 2 s until all pass or `settle` seconds pass."""
    deadline = monotonic() + settle
    while True:
        checks = round_()
        if all(c.ok for c in checks) or monotonic() >= deadline:
            return checks
        sleep(2.0)


def verify(
    *,
    kubeconfig: Path,
    node_ip: str,
    status_token: str,
    app_url: str | None = None,
    status_url: str | None = None,
    expect_rollup: str = "ready_with_background_issues",
    timeout: float = 10.0,
    settle: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[Check]:
    """Run every check; never raises for a failing appliance (a failing check says why).

    What lags right after an install is asked again for up to `settle` seconds: the status
    service probes the app on its own cadence, so its rollup may lag by one probe, and Flux
    applies the background tier (Temporal) after login already answers, so its Deployments may
    not exist yet when `smoke monitor` has just seen the app URL answer.
    """
    from appliance.cluster.applying import Applier, ApplyError
    from appliance.cluster.connecting import connect
    from appliance.cluster.reading import count_seeded_users
    from appliance.probing import probe_login

    host = f"[{node_ip}]" if ":" in node_ip else node_ip
    app = app_url or f"http://{host}:3000"
    status_base = status_url or f"http://{host}:8080"
    checks: list[Check] = []
    probe = probe_login(app, timeout=timeout, now=datetime.now(UTC))
    checks.append(
        Check(
            "T021",
            "app URL answers",
            probe.ok,
            f"{app}: HTTP {probe.status_code}" + (f" -> {probe.location}" if probe.location else "")
            if probe.status_code
            else f"{app}: {probe.error}",
        )
    )

    def status_checks() -> list[Check]:
        status, error = _fetch_status(status_base, status_token, timeout)
        return _status_checks(status, error, expect_rollup)

    try:
        cluster = connect(kubeconfig)
    except Exception as exc:  # the cluster checks fail, the HTTP ones still run
        checks.append(Check("T021", "seeded users > 0", False, f"no cluster: {exc}"))
        checks.append(Check("T023", "temporal deployments readable", False, f"no cluster: {exc}"))
        checks.extend(settled(status_checks, settle, sleep=sleep, monotonic=monotonic))
        return sorted(checks, key=lambda c: c.test)
    with cluster:
        users = count_seeded_users(cluster)
        checks.append(
            Check(
                "T021",
                "seeded users > 0",
                bool(users and users > 0),
                f"users={users if users is not None else 'not measurable'}",
            )
        )
        applier = Applier(cluster)

        def read(name: str) -> dict[str, Any] | None:
            try:
                return applier.get("apps/v1", "Deployment", name, namespace="msp")
            except ApplyError:
                return None

        checks.extend(
            settled(
                lambda: _temporal_checks(read) + status_checks(),
                settle,
                sleep=sleep,
                monotonic=monotonic,
            )
        )
    return sorted(checks, key=lambda c: c.test)
