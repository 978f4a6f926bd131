"""Issue 12, gap 11: error bodies byte for byte as kube-apiserver writes them, and watch rows
whose ages are computed on the server's (virtual) clock.

kube-apiserver encodes a Status with Go's json.Encoder: metav1.Status's field order (details
before code) and a trailing newline. `kubectl get -w` prints the Table rows the server renders,
so their AGE column must come from the simulated cluster's clock, not the test machine's.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.integration.fake_api_harness import KUBECTL
from tests.integration.served_world import WEB, raw_http, served_world, wait_for

_WEB = {"name": "web", "image": "nginx"}


def test_not_found_and_already_exists_are_byte_compatible(tmp_path: Path) -> None:
    """The exact bytes of a 404 and a 409 (what a differential test against kube-apiserver sees)."""
    with served_world(tmp_path, WEB) as (_world, api), raw_http(api) as http:
        missing = http.get("/api/v1/namespaces/shop/pods/nope")
        assert missing.status_code == 404
        assert missing.content == (
            b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
            b'"pods \\"nope\\" not found","reason":"NotFound","details":{"name":"nope",'
            b'"kind":"pods"},"code":404}\n'
        )
        # Valid, as kube-apiserver validates a create before it finds the name taken.
        template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [_WEB]}}
        spec = {"selector": {"matchLabels": {"app": "web"}}, "template": template}
        body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
        body["spec"] = spec
        taken = http.post("/apis/apps/v1/namespaces/shop/deployments", json=body)
        assert taken.status_code == 409
        assert taken.content == (
            b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
            b'"deployments.apps \\"web\\" already exists","reason":"AlreadyExists","details":'
            b'{"name":"web","group":"apps","kind":"deployments"},"code":409}\n'
        )
        assert http.get("/api/v1/namespaces/shop/services/web").content.endswith(b"}\n")


def test_kubectl_get_watch_prints_ages_on_the_cluster_clock(tmp_path: Path) -> None:
    """Rows printed by `kubectl get -w` (list and watch events) age in virtual time."""
    with served_world(tmp_path, WEB) as (world, api):
        wait_for(lambda: world.ready("Deployment", "web", "shop"), what="web ready")
        watcher = subprocess.Popen(
            [str(KUBECTL), "--kubeconfig", str(api.kubeconfig), "get", "pods", "-n", "shop", "-w"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(2.0)
            api.kubectl("scale", "deployment", "web", "-n", "shop", "--replicas=3")
            time.sleep(3.0)
        finally:
            watcher.terminate()
            out, _ = watcher.communicate(timeout=10)
        rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
        assert len(rows) > 3, out
        ages = [row[-1] for row in rows]
        # The scenario starts months away from today's date: an age computed on this machine's
        # clock would read in days; the cluster's clock says seconds or minutes.
        assert all(age[-1] in "sm" and "d" not in age for age in ages), out
