"""The ServiceAccounts kube-controller-manager makes in kube-system for its own controllers.

Run with `--use-service-account-credentials=true` (as real clusters run it, and as our real
control plane does: simulator/controlplane/cluster.py), kube-controller-manager lets each
controller talk to the API server as a ServiceAccount of its own in kube-system, which it gets or
creates as it starts that controller (k8s.io/controller-manager/pkg/clientbuilder). The bootstrap
policy grants each account its controller's rights through the ClusterRoleBinding
`system:controller:<account>`, so the accounts are those bindings' ServiceAccount subjects, less
the ones no controller of a default kube-controller-manager uses:
- `route-controller` and `service-controller`: the cloud controllers left kube-controller-manager
  in v1.31 (KEP-2395) for cloud-controller-manager; the policy still binds their accounts;
- `selinux-warning-controller`: disabled by default (its feature gate is off).
Disabling node-ipam and the CSR signing and approving controllers (as our control plane does)
drops no account: node-lifecycle and the CSR cleaner use the same two (`node-controller`,
`certificate-controller`). Measured against a real v1.37.2 (judged in
tests/integration/test_fake_api_vs_apiserver_published.py): 38 accounts, each nothing but its
name (no managedFields: a create that sets no field records no manager).

They are made once, at start. One deleted later comes back only when its controller next asks for
a token (its next write: the old token no longer authenticates; or its hourly renewal), not when
it is deleted; the fake API, whose simulated controllers write as no account, makes it again only
when it starts again, as a restarted kube-controller-manager would.
"""

from __future__ import annotations

from simulator.api.bootstrap_policy import bootstrap_policy
from simulator.api.store import AlreadyExistsError, ForbiddenError, NotFoundError, ObjectStore

__all__ = ["CONTROLLER_NAMESPACE", "controller_accounts", "publish_controller_accounts"]

CONTROLLER_NAMESPACE = "kube-system"
_BINDING_PREFIX = "system:controller:"
# Bound by the policy, used by no controller a default kube-controller-manager starts (above).
_UNUSED = frozenset({"route-controller", "service-controller", "selinux-warning-controller"})
# The client builder creates them with kube-controller-manager's own client.
_MANAGER = "kube-controller-manager"


def controller_accounts() -> tuple[str, ...]:
    """The accounts' names, sorted; empty while the bootstrap policy is not built."""
    names = {
        str(subject["name"])
        for obj in bootstrap_policy()
        if obj["kind"] == "ClusterRoleBinding"
        and str(obj["metadata"]["name"]).startswith(_BINDING_PREFIX)
        for subject in obj.get("subjects") or ()
        if subject.get("kind") == "ServiceAccount"
        and subject.get("namespace") == CONTROLLER_NAMESPACE
    }
    return tuple(sorted(names - _UNUSED))


def publish_controller_accounts(store: ObjectStore) -> None:
    """Create each controller's account in kube-system where absent."""
    for name in controller_accounts():
        account = {"name": name, "namespace": CONTROLLER_NAMESPACE}
        try:
            store.create(
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": account},
                strict=True,
                field_manager=_MANAGER,
                copy=False,
            )
        except AlreadyExistsError:  # kept from before a restart, or made by another writer
            continue
        except (ForbiddenError, NotFoundError):  # no kube-system (a bare store): nothing to do
            return
