"""The platform kinds a chart or an operator creates (RuntimeClasses, webhook configurations,
CSI drivers, flow-control objects, CertificateSigningRequests) are served as kube-apiserver v1.37
lists them; before, kubectl said "the server doesn't have a resource type"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fixtures.manifests import forged_csr
from tests.integration.fake_api_harness import running_api

MANIFEST = Path(__file__).parent / "manifests" / "platform-kinds.yaml"


def test_a_chart_of_platform_kinds_applies_and_reads_back(tmp_path: Path) -> None:
    """`kubectl apply` of a RuntimeClass, a webhook configuration, a CSI driver and flow-control
    objects; each reads back by its resource name, and the webhook shows under api-extensions."""
    with running_api(tmp_path) as api:
        applied = api.kubectl("apply", "-f", str(MANIFEST)).stdout
        assert "runtimeclass.node.k8s.io/gvisor created" in applied
        for resource, name in (
            ("runtimeclasses", "gvisor"),
            ("validatingwebhookconfigurations", "chart-webhook"),
            ("csidrivers", "csi.example.com"),
            ("flowschemas", "chart-flow"),
            ("prioritylevelconfigurations", "chart-level"),
        ):
            found = api.kubectl("get", resource, name, "-o", "name").stdout.strip()
            assert found.endswith(f"/{name}"), (resource, found)
        handler = api.kubectl("get", "runtimeclass", "gvisor").stdout.splitlines()
        assert handler[0].split() == ["NAME", "HANDLER", "AGE"]
        assert handler[1].split()[:2] == ["gvisor", "runsc"]
        extensions = api.kubectl("get", "api-extensions", "-o", "name").stdout.split()
        assert (
            "validatingwebhookconfiguration.admissionregistration.k8s.io/chart-webhook"
            in extensions
        )


def test_api_resources_lists_the_platform_kinds_with_their_short_names(tmp_path: Path) -> None:
    """kube-apiserver's short names and scopes: csr, vac, ip; resource claims namespaced."""
    with running_api(tmp_path) as api:
        table = api.kubectl("api-resources", "--no-headers").stdout.splitlines()
        rows = {line.split()[0]: line.split() for line in table}
        assert rows["certificatesigningrequests"][1:3] == ["csr", "certificates.k8s.io/v1"]
        assert rows["volumeattributesclasses"][1:3] == ["vac", "storage.k8s.io/v1"]
        assert rows["ipaddresses"][1:3] == ["ip", "networking.k8s.io/v1"]
        assert rows["resourceclaims"][-2:] == ["true", "ResourceClaim"]
        assert rows["storageversionmigrations"][-2:] == ["false", "StorageVersionMigration"]


def test_certificate_approve_sets_only_the_condition(tmp_path: Path) -> None:
    """`kubectl certificate approve` writes through the approval subresource: the Approved
    condition appears; the spec and the rest of the status stay as they were."""
    csr = forged_csr("alice")
    with running_api(tmp_path) as api:
        (tmp_path / "csr.json").write_text(json.dumps(csr))
        api.kubectl("create", "-f", str(tmp_path / "csr.json"))
        api.kubectl("certificate", "approve", "alice")
        stored = json.loads(api.kubectl("get", "csr", "alice", "-o", "json").stdout)
        conditions = stored["status"]["conditions"]
        assert [(c["type"], c["status"]) for c in conditions] == [("Approved", "True")]
        assert stored["spec"]["signerName"] == "example.com/signer"
        assert "certificate" not in stored["status"]
        # The requester is the caller, whatever the body claimed.
        assert (stored["spec"]["username"], stored["spec"]["groups"]) == (
            "admin",
            ["system:masters", "system:authenticated"],
        )
        shown = api.kubectl("get", "csr", "alice", "--no-headers").stdout.split()
        assert (shown[2], shown[3], shown[-1]) == ("example.com/signer", "admin", "Approved")


def test_platform_objects_read_back_with_kube_apiservers_defaults(tmp_path: Path) -> None:
    """What kube-apiserver fills in: a webhook's policies, timeout and service port, a flow
    schema's precedence, a priority level's shares, a CSI driver's modes."""
    with running_api(tmp_path) as api:
        api.kubectl("apply", "-f", str(MANIFEST))

        def read(resource: str, name: str) -> dict[str, Any]:
            found: dict[str, Any] = json.loads(
                api.kubectl("get", resource, name, "-o", "json").stdout
            )
            return found

        hook = read("validatingwebhookconfigurations", "chart-webhook")["webhooks"][0]
        assert (hook["failurePolicy"], hook["matchPolicy"], hook["timeoutSeconds"]) == (
            "Fail",
            "Equivalent",
            10,
        )
        assert hook["clientConfig"]["service"]["port"] == 443
        assert hook["rules"][0]["scope"] == "*"
        mutator = read("mutatingwebhookconfigurations", "chart-mutator")["webhooks"][0]
        assert mutator["reinvocationPolicy"] == "Never"
        assert read("flowschemas", "chart-flow")["spec"]["matchingPrecedence"] == 1000
        queued = read("prioritylevelconfigurations", "chart-queued")["spec"]["limited"]
        assert queued["nominalConcurrencyShares"] == 30
        assert queued["limitResponse"]["queuing"] == {
            "handSize": 4,
            "queues": 64,
            "queueLengthLimit": 50,
        }
        driver = read("csidrivers", "csi.example.com")["spec"]
        assert (driver["attachRequired"], driver["volumeLifecycleModes"]) == (False, ["Persistent"])


def test_a_binding_places_a_pod_once(tmp_path: Path) -> None:
    """`kubectl create -f` of a Binding (the scheduler's older write) puts the pod on the node;
    a second one is a 409 Conflict; the collection takes no reads (405)."""
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "web"},
        "target": {"kind": "Node", "name": "node-a"},
    }
    with running_api(tmp_path) as api:
        api.kubectl("run", "web", "--image=nginx")
        (tmp_path / "binding.json").write_text(json.dumps(binding))
        api.kubectl("create", "-f", str(tmp_path / "binding.json"))
        placed = api.kubectl("get", "pod", "web", "-o", "jsonpath={.spec.nodeName}").stdout
        assert placed == "node-a"
        again = api.kubectl("create", "-f", str(tmp_path / "binding.json"), check=False)
        assert "Error from server (Conflict)" in again.stderr
        listed = api.kubectl("get", "bindings", check=False)
        assert "MethodNotAllowed" in listed.stderr


def test_infrastructure_kinds_show_their_own_columns(tmp_path: Path) -> None:
    """A volume attachment shows its attacher, volume, node and state; an unallocated claim is
    pending; an IP address names its parent (kube-apiserver's columns, not NAME and AGE)."""
    with running_api(tmp_path) as api:
        api.kubectl("apply", "-f", str(MANIFEST.with_name("platform-columns.yaml")))
        attach = api.kubectl("get", "volumeattachment", "chart-attach").stdout.split("\n")
        assert attach[0].split() == ["NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"]
        assert attach[1].split()[:5] == [
            "chart-attach",
            "csi.example.com",
            "pv-a",
            "node-a",
            "false",
        ]
        claim = api.kubectl("get", "resourceclaim", "chart-claim", "--no-headers").stdout
        assert claim.split()[1] == "pending"
        address = api.kubectl("get", "ipaddress", "10.200.0.5", "--no-headers").stdout
        assert address.split() == ["10.200.0.5", "services/default/chart-svc"]
