"""Pods the API refuses to create (`refused_pods.py`): the owner's FailedCreate Event names the
admission that refused them, and the blocker says which and what to do. The messages are the
controllers' and admission plugins' own (k8s.io/kubernetes v1.37), as a real cluster writes them
(the control plane judge, test_control_plane_refused_pods.py, reads them from one)."""

from __future__ import annotations

import pytest

from appliance.blockers.refused_pods import LAYER_POD_ADMISSION, refusal_of
from tests.fixtures import Appliance, event, pod_name, probe_refused
from tests.unit.engine.conftest import Evaluate

_ACCOUNT = (
    'Error creating: pods "pgbouncer-5d4f8b7c9-" is forbidden: error looking up service '
    'account msp/pgbouncer: serviceaccount "pgbouncer" not found'
)
_POD_SECURITY = (
    'Create Pod redis-0 in StatefulSet redis failed error: pods "redis-0" is forbidden: '
    'violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), hostPort '
    '(container "redis" uses hostPort 6379)'
)


def _refuse(
    world: Appliance, component: str, kind: str, owner: str, message: str, **when: float
) -> None:
    """The component's workload has no pod, and its owner's controller says why."""
    world.workload_not_ready(component)
    world.remove("Pod", "msp", pod_name(component))
    world.put(
        event(kind, owner, "FailedCreate", message, component="replicaset-controller", **when)
    )


def test_a_missing_service_account_is_named_with_the_deployment_and_its_fix(
    world: Appliance, status_of: Evaluate
) -> None:
    """Six refusals over twelve minutes: stuck, the top blocker, named by the Deployment (not
    its ReplicaSet, nor as an unclassified warning), and the fix is the account."""
    _refuse(
        world,
        "pgbouncer",
        "ReplicaSet",
        "pgbouncer-5d4f8b7c9",
        _ACCOUNT,
        first=-720,
        last=-60,
        count=6,
    )
    status = status_of(world, probe=probe_refused())
    top = status.top_blockers[0]
    assert top.layer == LAYER_POD_ADMISSION
    assert top.component == "pgbouncer"
    assert top.reason == (
        "Deployment/pgbouncer cannot create its pods: its ServiceAccount pgbouncer does not "
        "exist in msp."
    )
    assert "`kubectl -n msp create serviceaccount pgbouncer`" in top.next_action
    assert not top.retryable
    assert [e.message for e in top.evidence] == [_ACCOUNT]
    assert all(b.layer != "Unclassified failure" for b in status.top_blockers)


def test_a_first_refusal_is_retryable(world: Appliance, status_of: Evaluate) -> None:
    """One refusal, half a minute old: the account may be on its way (the same apply makes
    it), so the controller's retry may still succeed."""
    _refuse(world, "pgbouncer", "ReplicaSet", "pgbouncer-5d4f8b7c9", _ACCOUNT, first=-30)
    top = status_of(world, probe=probe_refused()).top_blockers[0]
    assert top.layer == LAYER_POD_ADMISSION
    assert top.retryable


def test_pod_security_on_a_statefulset_says_how_to_label_the_namespace(
    world: Appliance, status_of: Evaluate
) -> None:
    _refuse(world, "redis", "StatefulSet", "redis", _POD_SECURITY, first=-900, count=9)
    top = status_of(world, probe=probe_refused()).top_blockers[0]
    assert top.layer == LAYER_POD_ADMISSION
    assert top.reason.startswith(
        "StatefulSet/redis cannot create its pods: Pod Security admission refuses them "
        '(violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)'
    )
    assert "pod-security.kubernetes.io/enforce=privileged" in top.next_action
    assert "Talos enforces `baseline`" in top.next_action


def test_an_old_refusal_of_a_ready_component_is_history(
    world: Appliance, status_of: Evaluate
) -> None:
    """The controller's retry succeeded: the Event stays an hour, the blocker does not."""
    world.put(
        event("ReplicaSet", "pgbouncer-5d4f8b7c9", "FailedCreate", _ACCOUNT, first=-1200, count=3)
    )
    status = status_of(world)
    assert all(b.layer != LAYER_POD_ADMISSION for b in status.top_blockers)


# What each admission plugin says (plugin/pkg/admission/*, staging apiserver webhooks, v1.37),
# inside the replicaset controller's "Error creating: pods "x-" is forbidden: ..." or as is.
_FORBIDDEN = 'Error creating: pods "web-7c9d-" is forbidden: '
CASES = {
    "quota": (
        _FORBIDDEN + "exceeded quota: compute, requested: pods=1, used: pods=4, limited: pods=4",
        "the namespace's ResourceQuota is used up (exceeded quota: compute, requested: pods=1,",
        "describe resourcequota compute",
    ),
    "limit-range": (
        _FORBIDDEN + "maximum cpu usage per Container is 500m, but limit is 2",
        "a LimitRange bounds them (maximum cpu usage per Container is 500m, but limit is 2)",
        "describe limitrange",
    ),
    "limit-ratio": (
        _FORBIDDEN
        + "memory max limit to request ratio per Container is 2, but provided ratio is 4.000000",
        "a LimitRange bounds them",
        "describe limitrange",
    ),
    "priority": (
        _FORBIDDEN + "no PriorityClass with name alga-high was found",
        "their PriorityClass alga-high does not exist",
        "priorityClassName",
    ),
    "webhook-denied": (
        'Error creating: admission webhook "validate.kyverno.svc-fail" denied the request: '
        "policy Deployment/msp/web for resource violation",
        "the admission webhook validate.kyverno.svc-fail denies them",
        "validatingwebhookconfigurations",
    ),
    "webhook-silent": (
        'Error creating: Internal error occurred: failed calling webhook "webhook.cert-manager.io"'
        ': failed to call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/'
        'mutate?timeout=10s": dial tcp 10.96.12.4:443: connect: connection refused',
        "the admission webhook webhook.cert-manager.io does not answer",
        "once it answers",
    ),
    "terminating": (
        'Error creating: pods "web-7c9d-" is forbidden: unable to create new content in '
        "namespace msp because it is being terminated",
        "namespace msp is being deleted",
        "kubectl get namespace msp",
    ),
    "unknown": (
        _FORBIDDEN + "something no plugin here says",
        'the API refuses them (pods "web-7c9d-" is forbidden: something no plugin here says)',
        "`kubectl -n msp describe ReplicaSet web-7c9d` shows each refusal.",
    ),
}


@pytest.mark.parametrize(("message", "cause", "action"), CASES.values(), ids=CASES.keys())
def test_each_admissions_refusal_is_named(message: str, cause: str, action: str) -> None:
    refusal = refusal_of(message, "msp", "ReplicaSet/web-7c9d")
    assert refusal.cause.startswith(cause)
    assert action in refusal.action
    assert refusal.transient == (cause.endswith("does not answer"))


def test_once_the_events_are_gone_the_deployments_condition_still_says_it(
    world: Appliance, status_of: Evaluate
) -> None:
    """kube-apiserver keeps Events an hour; the Deployment controller's copy of its ReplicaSet's
    ReplicaFailure stays as long as the refusal does."""
    world.workload_not_ready("pgbouncer")
    world.remove("Pod", "msp", pod_name("pgbouncer"))
    deployment = world.workloads_of("pgbouncer")[0]
    refusal = _ACCOUNT.removeprefix("Error creating: ")
    deployment["status"]["conditions"].append(
        {
            "type": "ReplicaFailure",
            "status": "True",
            "reason": "FailedCreate",
            "message": refusal,
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    )
    top = status_of(world, probe=probe_refused()).top_blockers[0]
    assert top.layer == LAYER_POD_ADMISSION
    assert top.reason == (
        "Deployment/pgbouncer cannot create its pods: its ServiceAccount pgbouncer does not "
        "exist in msp."
    )
    assert [e.message for e in top.evidence] == [refusal]
    assert not top.retryable  # the condition is older than PERSISTENT


def test_the_condition_and_the_events_make_one_blocker(
    world: Appliance, status_of: Evaluate
) -> None:
    _refuse(world, "pgbouncer", "ReplicaSet", "pgbouncer-5d4f8b7c9", _ACCOUNT, first=-60)
    deployment = world.workloads_of("pgbouncer")[0]
    deployment["status"]["conditions"].append(
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "x"}
    )
    status = status_of(world, probe=probe_refused())
    assert [b.layer for b in status.top_blockers].count(LAYER_POD_ADMISSION) == 1
