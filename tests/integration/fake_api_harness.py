"""A running fake API for integration tests: store, server, kubeconfig and a kubectl runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from simulator.api import ApiServer
from simulator.api.bootstrap_policy import bootstrap_policy
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from tests.tools import short_lived_go

__all__ = ["KUBECTL", "Harness", "needs_bootstrap_policy", "running_api"]

KUBECTL = Path(sys.executable).parent / "kubectl"
START = datetime(2026, 1, 1, tzinfo=UTC)
# For tests whose service accounts ask self-reviews (`kubectl auth can-i`, `whoami`): only the
# bootstrap policy's system:basic-user grants them, as on a real cluster.
needs_bootstrap_policy = pytest.mark.skipif(
    not bootstrap_policy(),
    reason="the RBAC bootstrap policy is not built (python -m simulator.api.bootstrap_policy)",
)


@dataclass
class Harness:
    """Handles a test needs: the store (the world's side) and the server (the client's side)."""

    store: ObjectStore
    server: ApiServer
    kubeconfig: Path
    workdir: Path
    clients: list[Any] = field(default_factory=list)

    def kubectl(
        self, *args: str, kubeconfig: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the real kubectl against the fake API; raises with its stderr when it fails."""
        env = short_lived_go(
            {
                **os.environ,
                "KUBECONFIG": str(kubeconfig or self.kubeconfig),
                "HOME": str(self.workdir),
            }
        )
        result = subprocess.run(
            [str(KUBECTL), "--cache-dir", str(self.workdir / "cache"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
            )
        return result

    def client(self, token: str | None = None) -> Any:
        """An official `kubernetes.client.ApiClient` for the admin (or for `token`)."""
        path = self.kubeconfig
        if token is not None:
            path = self.server.write_kubeconfig(self.workdir / f"kc-{token[:8]}", token=token)
        api_client = kubernetes.config.new_client_from_config(config_file=str(path))
        self.clients.append(api_client)
        return api_client

    def close_clients(self) -> None:
        """Close the clients' connection pools (no unclosed sockets after the test)."""
        for api_client in self.clients:
            api_client.close()
        self.clients.clear()


@contextmanager
def running_api(workdir: Path, *, history_limit: int = 10_000) -> Iterator[Harness]:
    """Start store and server on 127.0.0.1 with a random port; stop them afterwards."""
    store = ObjectStore(VirtualClock(START, speed=1.0), history_limit=history_limit)
    server = ApiServer(store)
    server.start()
    try:
        kubeconfig = server.write_kubeconfig(workdir / "kubeconfig")
        harness = Harness(store=store, server=server, kubeconfig=kubeconfig, workdir=workdir)
        try:
            yield harness
        finally:
            harness.close_clients()
    finally:
        server.stop()
