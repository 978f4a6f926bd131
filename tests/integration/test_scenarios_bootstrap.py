"""`--bootstrap` orchestration: an external command runs against a served world, the status
rollup is polled with the token the command wrote, and changes are kept as a timeline."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from simulator.bootstrapping import BootstrapSession
from simulator.neighbours.addresses import choose_node_address
from simulator.world.scenario import parse_scenario
from simulator.world.served import ServedWorld

FAKE_BOOTSTRAPPER = """
import subprocess, sys
from pathlib import Path
config_dir, site, kubeconfig, kubectl = sys.argv[1:5]
site_dir = Path(config_dir) / site
site_dir.mkdir(parents=True, exist_ok=True)
(site_dir / "status-token").write_text("tok-123\\n")
manifest = '''
apiVersion: v1
kind: Namespace
metadata: {name: msp}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: redis, namespace: msp}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: redis}}
  template:
    metadata: {labels: {app.kubernetes.io/name: redis}}
    spec: {containers: [{name: redis, image: redis:7}]}
'''
command = [kubectl, "--kubeconfig", kubeconfig, "apply", "-f", "-"]
subprocess.run(command, input=manifest, text=True, check=True)
print("[phase] apps applied")
"""


def _status_server(node_ip: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != "Bearer tok-123":
                self.send_response(401)
                self.end_headers()
                return
            body = json.dumps(
                {
                    "rollup": {"state": "ready_with_background_issues"},
                    "topBlockers": [
                        {
                            "layer": "Image tag availability",
                            "component": "workflow-worker",
                            "reason": "ImagePullBackOff",
                        }
                    ],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((node_ip, 8080), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServedWorld, Path]]:
    """A served world at 600x plus a stand-in status service on its node address."""
    script = tmp_path / "fake_bootstrapper.py"
    script.write_text(FAKE_BOOTSTRAPPER)
    kubectl = Path(sys.executable).parent / "kubectl"
    scenario = parse_scenario(
        f"""
name: orchestration
speed: 600
bootstrap:
  runs:
    - argv: ["{sys.executable}", "{script}", "{{config_dir}}", "{{site_id}}",
             "{{world_kubeconfig}}", "{kubectl}"]
""",
        source="test.yaml",
    )
    world = ServedWorld(scenario, speed=600, node_ip=choose_node_address())
    world.start()
    status = _status_server(world.node_ip)
    try:
        yield world, tmp_path / "site"
    finally:
        status.shutdown()
        status.server_close()
        world.stop()


def test_bootstrap_runs_the_command_and_records_the_rollup(
    served: tuple[ServedWorld, Path],
) -> None:
    """The command's objects come alive and the rollup timeline ends in the state asked for."""
    world, config_dir = served
    output: list[str] = []
    session = BootstrapSession(world, config_dir=config_dir, echo=output.append)
    code = session.run(until_state="ready_with_background_issues", until_seconds=3600)
    assert code == 0, "\n".join(output)
    assert session.exit_codes == [0]
    assert any("[phase] apps applied" in line for line in output)
    assert session.poller.lines[-1].state == "ready_with_background_issues"
    assert session.poller.lines[-1].blocker.startswith("background issue: Image tag availability (")
    assert "workflow-worker" in session.poller.lines[-1].blocker
    assert session.poller.first_answer_at is not None
    assert world.get("Deployment", "redis", "msp") is not None
