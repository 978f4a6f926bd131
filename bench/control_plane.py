#!/usr/bin/env python3
"""Bench (f): the real control plane's warm start, and one replay timed on both backends.

- Warm start: etcd + kube-apiserver + kube-controller-manager from built programs until the
  controller manager made the `default` ServiceAccount, against starting the fake API in the
  same run (the baseline). Goal (issue 13): a second start within seconds.
- Replay: happy-path replayed onto the control plane (the real controllers; time must run, at
  the scenario's speed) against the same replay onto the fake API (the world plays the
  controllers, frozen clock, as fast as correctness allows).

    .venv/bin/python bench/control_plane.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.api import ApiServer  # noqa: E402
from simulator.api.store import ObjectStore  # noqa: E402
from simulator.clock import VirtualClock  # noqa: E402
from simulator.controlplane.binaries import KUBERNETES_PROGRAMS, find_binaries  # noqa: E402
from simulator.controlplane.cluster import ControlPlane  # noqa: E402
from simulator.controlplane.replaying import replay_onto_control_plane  # noqa: E402
from simulator.replay.kubeclient import ApiError, KubeClient  # noqa: E402
from simulator.replay.remote import replay_onto_cluster  # noqa: E402

HAPPY = ROOT / "scenarios" / "happy-path.yaml"


def _wait_for_default_account(kubeconfig: Path) -> None:
    client = KubeClient(kubeconfig)
    try:
        while True:
            try:
                client.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")
                return
            except ApiError:
                time.sleep(0.1)
    finally:
        client.close()


def _fake_api(folder: Path) -> tuple[ApiServer, Path, float]:
    started = time.perf_counter()
    api = ApiServer(ObjectStore(VirtualClock(datetime.now(UTC), speed=0)))
    api.start()
    kubeconfig = api.write_kubeconfig(folder / "fake.kubeconfig")
    return api, kubeconfig, time.perf_counter() - started


def run(quick: bool) -> list[dict[str, object]]:
    """Rows {name, value, baseline, ratio, goal} for bench/run."""
    binaries = find_binaries()
    if any(name not in binaries for name in KUBERNETES_PROGRAMS):
        return [
            {
                "name": "control plane not built (python -m simulator.controlplane.binaries build)",
                "value": None,
                "baseline": None,
                "ratio": None,
                "goal": "",
            }
        ]
    until = 300.0 if quick else None
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-control-plane-") as tmp:
        folder = Path(tmp)
        api, fake_kubeconfig, fake_start = _fake_api(folder)
        started = time.perf_counter()
        plane = ControlPlane(binaries, folder=folder / "plane").start()
        try:
            _wait_for_default_account(plane.kubeconfig)
            warm = time.perf_counter() - started
            rows.append(
                {
                    "name": "warm start: etcd, kube-apiserver, controllers ready, s (vs fake API)",
                    "value": warm,
                    "baseline": fake_start,
                    "ratio": warm / max(fake_start, 1e-9),
                    "goal": "seconds, not minutes (< 30 s)",
                }
            )
            real = replay_onto_control_plane(HAPPY, kubeconfig=plane.kubeconfig, until=until)
            fake = replay_onto_cluster(HAPPY, kubeconfig=fake_kubeconfig, speed=0, until=until)
        finally:
            plane.stop()
            api.stop()
    span = f"{real.virtual_seconds / 60:.0f} virtual min"
    rows.append(
        {
            "name": f"replay happy-path ({span}): control plane wall s (vs fake API)",
            "value": real.wall_seconds,
            "baseline": fake.wall_seconds,
            "ratio": real.wall_seconds / max(fake.wall_seconds, 1e-9),
            "goal": "reported (the control plane runs in real time / speed)",
        }
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in run(args.quick):
        print(
            f"{row['name']:<90} value={row['value']} baseline={row['baseline']} "
            f"ratio={row['ratio']} goal {row['goal']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
