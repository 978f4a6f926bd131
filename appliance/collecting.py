"""Collecting a status: read the cluster (or dumps), probe the app, measure seeds, evaluate.

This is where I/O happens; `appliance.engine.evaluate` stays pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance.canonical import ApplianceStatus, JobState, LoginProbe, Release
from appliance.cluster.connecting import Cluster
from appliance.cluster.reading import count_seeded_users, read_snapshot
from appliance.dumps import DEFAULT_MAX_DUMP_BYTES, read_dumps
from appliance.engine import evaluate
from appliance.indexing import bootstrap_job_state
from appliance.probing import probe_login
from appliance.snapshot import Snapshot
from appliance.views import job_view

__all__ = ["collect_from_dumps", "collect_live"]


def collect_live(
    cluster: Cluster,
    *,
    site_id: str,
    app_url: str | None,
    status_url: str | None = None,
    probe: bool = True,
    measure_users: bool = True,
    release: Release | None = None,
    snapshot: Snapshot | None = None,
) -> ApplianceStatus:
    """The status of a live cluster: one read per kind, the login probe, the seeded-users exec.

    The users count is only measured once the bootstrap Job completed (finding-10), and only
    when `measure_users` (the in-cluster status service has no exec right and passes False).
    `snapshot`: the cluster as a watch cache already mirrors it, instead of a fresh read.
    """
    if snapshot is None:
        snapshot = read_snapshot(cluster)
    login_probe: LoginProbe | None = None
    if probe and app_url and snapshot.api_error is None:
        login_probe = probe_login(app_url, now=snapshot.server_time)
    users: int | None = None
    measurable = False
    if measure_users and snapshot.api_error is None:
        job = bootstrap_job_state([v for raw in snapshot.jobs if (v := job_view(raw))])
        if job.state is JobState.COMPLETED:
            users = count_seeded_users(cluster)
            measurable = users is not None
    return evaluate(
        snapshot,
        site_id=site_id,
        login_probe=login_probe,
        users_count=users,
        users_count_measurable=measurable,
        status_url=status_url,
        login_url=app_url,
        release=release,
    )


def collect_from_dumps(
    paths: Sequence[Path],
    *,
    site_id: str,
    app_url: str | None = None,
    probe: bool = True,
    max_bytes: int = DEFAULT_MAX_DUMP_BYTES,
) -> ApplianceStatus:
    """The status from offline dumps: the app URL is probed when given; users are not measurable."""
    snapshot = read_dumps(paths, max_bytes=max_bytes)
    login_probe = probe_login(app_url, now=snapshot.server_time) if probe and app_url else None
    return evaluate(
        snapshot,
        site_id=site_id,
        login_probe=login_probe,
        users_count=None,
        users_count_measurable=False,
        login_url=app_url,
    )
