"""What kube-apiserver's post-start hooks create: the RBAC bootstrap policy, system priorities.

- `rbac/bootstrap-roles` creates the default ClusterRoles, ClusterRoleBindings, Roles and
  RoleBindings (`bootstrap_policy`), which grant what every cluster grants: discovery and
  self-reviews to every user, cluster-admin to system:masters, the controllers' own rights;
- `scheduling/bootstrap-system-priority-classes` creates `system-node-critical` and
  `system-cluster-critical`, which critical add-ons (CoreDNS, CNI, metrics) name.
`kubectl get clusterroles,pc` shows them on every cluster, and the fake API's authorizer grants
through them, so a served world holds them from the moment it serves. This creates what is
absent and leaves what it finds: a restarted kube-apiserver also adds back rules and subjects
removed from the roles annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`, which a
restarted fake API (same store) does not.
"""

from __future__ import annotations

import msgspec

from simulator.api.bootstrap_policy import encoded_policy
from simulator.api.store import AlreadyExistsError, ForbiddenError, NotFoundError, ObjectStore

__all__ = ["SYSTEM_PRIORITY_CLASSES", "publish_bootstrap_objects"]

# The hooks write through kube-apiserver's loopback client, whose user agent names the manager.
_MANAGER = "kube-apiserver"
_SCHEDULING = "scheduling.k8s.io/v1"
# pkg/apis/scheduling: SystemCriticalPriority (2e9) and node-critical 1000 above it, with the
# descriptions of SystemPriorityClasses(), word for word.
SYSTEM_PRIORITY_CLASSES = (
    {
        "apiVersion": _SCHEDULING,
        "kind": "PriorityClass",
        "metadata": {"name": "system-node-critical"},
        "value": 2_000_001_000,
        "description": "Used for system critical pods that must not be moved from their "
        "current node.",
    },
    {
        "apiVersion": _SCHEDULING,
        "kind": "PriorityClass",
        "metadata": {"name": "system-cluster-critical"},
        "value": 2_000_000_000,
        "description": "Used for system critical pods that must run in the cluster, but can be "
        "moved to another node if necessary.",
    },
)


def publish_bootstrap_objects(store: ObjectStore) -> None:
    """Create the policy and the system PriorityClasses where absent."""
    for data in (*encoded_policy(), *_ENCODED_CLASSES):
        try:  # each create gets a dict of its own, decoded from bytes encoded once per process
            store.create(_DECODER.decode(data), field_manager=_MANAGER, copy=False)
        except AlreadyExistsError:  # kept from before a restart, or made by another writer
            continue
        except (ForbiddenError, NotFoundError):  # its namespace was deleted: the hook skips it
            continue


_DECODER = msgspec.json.Decoder()
_ENCODED_CLASSES = tuple(msgspec.json.encode(obj) for obj in SYSTEM_PRIORITY_CLASSES)
