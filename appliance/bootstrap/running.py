"""One bootstrap run: preflight, the six phases (Talos, then one per readiness tier), the status
UI block, the closing summary.

Collaborators (talosctl, the cluster connection, the status collector, `which`, sleep and the
clock) are injected so tests drive the same code path an admin runs.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from appliance import interrupts
from appliance.bootstrap.display import Display
from appliance.bootstrap.flags import BootstrapOptions
from appliance.bootstrap.gitsource import GitSource, resolve_source
from appliance.bootstrap.host import plan_host, run_host_phase
from appliance.bootstrap.platform import flux_sync_objects, run_platform_phase
from appliance.bootstrap.prepull import prepull_images
from appliance.bootstrap.talosctl import Talosctl
from appliance.bootstrap.validation import validate_release_images
from appliance.bootstrap.watching import WatchOutcome, watch_install
from appliance.canonical import ApplianceStatus, Release
from appliance.clocking import Clock, SystemClock
from appliance.cluster.applying import Applier, ApplyError
from appliance.errors import BootstrapError, InputError
from appliance.plain_http import HTTPError, PlainHttp
from appliance.releases import ReleaseManifest, load_release
from appliance.tier_table import TIERS
from appliance.tokens import StatusToken, ensure_status_token, token_path
from appliance.words import STATE_WORDS, blocker_title, human_elapsed

__all__ = ["Collaborators", "run_bootstrap"]


def _connect(kubeconfig: Path) -> Any:
    from appliance.cluster.connecting import connect

    return connect(kubeconfig)


def _collect(
    cluster: Any,
    *,
    site_id: str,
    app_url: str,
    status_url: str,
    release: Release,
    snapshot: Any = None,
) -> ApplianceStatus:
    from appliance.collecting import collect_live

    return collect_live(
        cluster,
        site_id=site_id,
        app_url=app_url,
        status_url=status_url,
        release=release,
        snapshot=snapshot,
    )


def _watch_cache(cluster: Any, clock: Clock) -> Any:
    from appliance.cluster.watching import WatchCache

    return WatchCache(cluster, clock=clock)


@dataclass
class Collaborators:
    """Everything the run touches outside itself."""

    talosctl: Talosctl = field(default_factory=Talosctl)
    connect: Callable[[Path], Any] = _connect
    collect: Callable[..., ApplianceStatus] = _collect
    which: Callable[[str], str | None] = shutil.which
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    workdir: Path | None = None
    # Cluster-clock seconds to wait for the status service's /healthz before moving on.
    healthz_wait: float = 60.0
    clock: Clock = field(default_factory=SystemClock)
    # The install is watched (list + watch, as the status service does) and read again when
    # the cluster changes; None reads the whole cluster every --poll-interval instead.
    watch: Callable[[Any, Clock], Any] | None = _watch_cache
    # Cluster-clock seconds a new watch may take to list every kind before the first reading.
    watch_sync_wait: float = 30.0


def _wait_healthz(
    url: str,
    *,
    seconds: float,
    display: Display,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
) -> bool:
    """Briefly wait for the status service; the install continues either way.

    `monotonic` reads the cluster's clock, so a compressed replay waits as long in cluster time
    as a real appliance would.
    """
    deadline = monotonic() + seconds
    with PlainHttp(timeout=2.0, follow_redirects=False, trust_env=False) as http:
        while True:
            try:
                if http.request("GET", f"{url}/healthz").status == 200:
                    display.progress(f"status service answered {url}/healthz")
                    return True
            except HTTPError:
                pass
            if monotonic() >= deadline:
                display.progress(
                    "status service not up yet (its image may still be pulling); "
                    "continuing - open the URL above in a minute"
                )
                return False
            sleep(0.5)


def _wait_for_api(
    applier: Applier, options: BootstrapOptions, display: Display, deps: Collaborators
) -> None:
    """The Kubernetes API may still be starting (a fresh node, a reboot): wait, within reason."""
    deadline = deps.monotonic() + options.host_timeout
    while True:
        try:
            applier.server_now()
            return
        except ApplyError as exc:
            if deps.monotonic() >= deadline:
                raise BootstrapError(
                    "the Kubernetes API did not answer within "
                    f"{human_elapsed(options.host_timeout)}: {exc}",
                    layer="platform",
                    next_action="check that the node is up and port 6443 is reachable, then "
                    "rerun with --bootstrap-mode recover",
                ) from exc
            display.progress("waiting for the Kubernetes API to answer")
            deps.sleep(min(5.0, options.poll_interval))


def _watch_install(
    options: BootstrapOptions,
    display: Display,
    deps: Collaborators,
    cluster: Any,
    release: Release,
) -> WatchOutcome:
    """The phases from Platform to Background services, read as the cluster changes."""
    watched = _Watched(deps.watch(cluster, deps.clock) if deps.watch else None, deps)

    def collect() -> ApplianceStatus:
        return deps.collect(
            cluster,
            site_id=options.site_id,
            app_url=options.app_url,
            status_url=options.status_url,
            release=release,
            snapshot=watched.snapshot(),
        )

    try:
        return watch_install(
            collect,
            display=display,
            timeout=options.install_timeout,
            interval=options.poll_interval,
            sleep=deps.sleep,
            wait=watched.wait if watched.cache is not None else None,
        )
    finally:
        watched.stop()


class _Watched:
    """The install seen through a watch cache: a snapshot per reading, waits until it changes."""

    def __init__(self, cache: Any, deps: Collaborators) -> None:
        self.cache = cache
        self._mark: Any = None
        if cache is None:
            return
        cache.start()
        deadline = deps.monotonic() + deps.watch_sync_wait
        mark = cache.mark()
        while not cache.synced and deps.monotonic() < deadline:
            # Not synced yet is no error: the first reading then says what is still missing.
            mark = cache.wait_for_change(mark, timeout=1.0)
        cache.settle(mark)  # the first reading sees whole changes (WatchCache.settle)

    def snapshot(self) -> Any:
        """The cache's objects now (None: read the cluster instead)."""
        if self.cache is None:
            return None
        # Taken before the snapshot: this reading covers at least what the mark says.
        self._mark = self.cache.mark()
        return self.cache.with_previous_logs(self.cache.snapshot())

    def wait(self, seconds: float) -> None:
        """Until the cluster changed after the last reading, or `seconds` passed.

        After a change, a wait of no time lets the change settle: on the machine's clock it
        returns at once; on a test clock it returns when every other process waits too, so
        the next reading sees the whole change, not half of it, on every run.
        """
        if self.cache is None or self._mark is None:
            return
        mark = self.cache.wait_for_change(self._mark, timeout=seconds)
        if mark != self._mark:
            self.cache.settle(mark)

    def stop(self) -> None:
        """Close the watches."""
        if self.cache is not None:
            self.cache.stop()


def _preflight(options: BootstrapOptions, release: ReleaseManifest, display: Display) -> None:
    display.step(
        f"Preflight: release {release.version} "
        f"({len(release.images)} images, app {release.app_version or '-'})"
    )
    if options.skip_image_tag_validation:
        display.warn("image tag validation skipped (--skip-image-tag-validation)")
    elif options.dry_run:
        display.progress(
            "would validate release image tags against the registry "
            "(core required, background warn-only)"
        )
    else:
        validate_release_images(release, display=display, registry_url=options.registry_url)


def _source(
    options: BootstrapOptions, release: ReleaseManifest, display: Display, workdir: Path | None
) -> GitSource:
    source = resolve_source(
        repo_url=options.repo_url,
        branch_override=options.branch_override,
        release_branch=release.git_branch,
        require_remote_branch=options.require_remote_branch,
        workdir=workdir,
    )
    for warning in source.warnings:
        display.warn(warning)
    display.block(
        "Flux source summary:",
        source.summary_rows(release_version=release.version, release_branch=release.git_branch),
    )
    return source


def run_bootstrap(
    options: BootstrapOptions, *, display: Display, collaborators: Collaborators | None = None
) -> int:
    """Run the whole bootstrap; print the failure layer and next action on failure."""
    deps = collaborators or Collaborators()
    try:
        return _run(options, display, deps)
    except BootstrapError as exc:
        display.failure(str(exc), layer=exc.layer, next_action=exc.next_action)
        return exc.exit_code
    except KeyboardInterrupt:
        interrupts.handled()
        display.failure("interrupted", layer="interrupted", next_action=_after_interrupt(options))
        return 130
    except InputError as exc:  # a release or token file: the admin's input, exit 2
        display.failure(
            exc.one_line(),
            layer="configuration",
            next_action="fix the flag or file named above and rerun",
        )
        return exc.exit_code
    finally:
        display.close()


def _after_interrupt(options: BootstrapOptions) -> str:
    """What to run after Ctrl-C, from what this run really left (never a file that is not there)."""
    plan = plan_host(options)
    kept = [
        f"{what} {path}"
        for what, path in (
            ("kubeconfig", plan.kubeconfig),
            ("talosconfig", plan.talosconfig),
            ("machine config", plan.machine_config),
            ("status token", token_path(options.config_dir, site_id=options.site_id)),
        )
        if path.is_file()
    ]
    if plan.kubeconfig.is_file() or plan.talosconfig.is_file():
        return (
            "rerun with --bootstrap-mode recover: it continues from what is kept ("
            + ", ".join(kept)
            + "; the cluster's data stays)"
        )
    if kept:
        return f"rerun the same command: nothing was installed yet ({', '.join(kept)} kept)"
    return "rerun the same command: nothing was changed yet"


def _run(options: BootstrapOptions, display: Display, deps: Collaborators) -> int:
    release = load_release(options.release_version)
    mode = "DRY RUN: nothing will be changed" if options.dry_run else options.mode
    display.step(f"appliance bootstrap ({mode}) site {options.site_id}, node {options.node_ip}")
    _preflight(options, release, display)
    source = _source(options, release, display, deps.workdir)

    display.phase("Host/Talos")
    kubeconfig = run_host_phase(
        options, display=display, talosctl=deps.talosctl, sleep=deps.sleep, monotonic=deps.monotonic
    )

    display.phase(TIERS[0].label)
    cluster = None
    if not options.dry_run:
        try:
            cluster = deps.connect(kubeconfig)
        except Exception as exc:  # ClusterError and friends: name the kubeconfig
            raise BootstrapError(
                str(exc),
                layer="platform",
                next_action="check the kubeconfig and that the node's "
                "Kubernetes API (port 6443) is reachable",
            ) from exc
    applier = Applier(cluster, dry_run=options.dry_run, sleep=deps.sleep)
    if cluster is not None:
        _wait_for_api(applier, options, display, deps)
    try:
        token = ensure_status_token(
            options.config_dir, site_id=options.site_id, dry_run=options.dry_run
        )
        how = "reused" if not token.created else "generated"
        if options.dry_run and token.created:
            how = "generated for this dry run (not saved)"
        display.progress(f"status token {how}: {token.path}")

        def prepull() -> None:
            prepull_images(
                applier,
                release,
                display=display,
                timeout=options.install_timeout,
                interval=options.poll_interval,
            )

        run_platform_phase(
            applier=applier,
            kubeconfig=kubeconfig,
            display=display,
            release=release,
            source=source,
            token=token.value,
            app_url=options.app_url,
            site_id=options.site_id,
            which=deps.which,
            before_gitops=prepull if options.prepull_images else None,
        )
        display.block(
            "Appliance status UI: " + options.status_url,
            [
                ("URL", options.status_url),
                ("Token", token.value),
                ("Token file", str(token.path)),
                ("Sign-in link", sign_in_link(options.status_url, token.value)),
            ],
        )
        if options.dry_run:
            _print_dry_run_plan(options, applier, release, source, display)
            return 0
        _wait_healthz(
            options.status_url,
            seconds=deps.healthz_wait,
            display=display,
            sleep=deps.sleep,
            monotonic=lambda: applier.server_now().timestamp(),
        )
        canonical_release = Release(
            selected_release_version=release.version,
            app_version=release.app_version,
            channel=release.channel,
            git_revision=source.remote_revision,
        )

        outcome = _watch_install(options, display, deps, cluster, canonical_release)
    except ApplyError as exc:
        raise BootstrapError(
            str(exc), layer="platform", next_action="rerun with --bootstrap-mode recover"
        ) from exc
    finally:
        if cluster is not None:
            cluster.close()
    status = outcome.status
    display.block("Appliance login ready:", summary_rows(options, status, token, kubeconfig))
    if not outcome.background_done:
        display.progress("background services are still coming up; watch the status UI")
    return 0


def sign_in_link(status_url: str, token: str) -> str:
    """The status UI link that signs the browser in (the service swaps it for a cookie)."""
    return f"{status_url}/?{urlencode({'token': token})}"


def summary_rows(
    options: BootstrapOptions, status: ApplianceStatus, token: StatusToken, kubeconfig: Path
) -> list[tuple[str, str]]:
    """The closing block: where to log in, where to watch (and sign in), what still needs care.

    The admin should not have to scroll back to the status UI block for its token file.
    """
    rows = [
        ("Rollup", f"{STATE_WORDS[status.rollup.state]} ({status.rollup.state.value})"),
        ("Login URL", options.app_url),
        ("Status UI", options.status_url),
        ("Sign-in link", sign_in_link(options.status_url, token.value)),
        ("Token file", str(token.path)),
        ("Kubeconfig", str(kubeconfig)),
    ]
    for blocker in status.top_blockers:
        if not blocker.login_blocking:
            rows.append(
                (
                    blocker_title(blocker),
                    f"{blocker.component or blocker.layer}: {blocker.reason} "
                    f"Next: {blocker.next_action}",
                )
            )
    return rows


def _print_dry_run_plan(
    options: BootstrapOptions,
    applier: Applier,
    release: ReleaseManifest,
    source: GitSource,
    display: Display,
) -> None:
    display.step("Plan (dry run): objects that would be applied")
    for item in applier.planned:
        display.progress(f"{item.action}: {item.ref}")
    for obj in flux_sync_objects(source, release):
        depends = [d["name"] for d in obj["spec"].get("dependsOn", [])]
        if depends:
            display.progress(f"{obj['metadata']['name']} dependsOn {', '.join(depends)}")
    for spec in TIERS[1:]:
        display.phase(spec.label)
        display.progress(
            f"would watch the {spec.name} tier ({spec.description}) through the status engine "
            f"(timeout {human_elapsed(options.install_timeout)}, cluster clock)"
        )
    display.done("Dry run complete: no changes were made.")
