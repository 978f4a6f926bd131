"""Pods the API refuses to create: a workload that cannot make its pods, and why.

kube-controller-manager's controllers say it in a Warning `FailedCreate` Event on the owner
(pkg/controller, v1.37): `Error creating: <the API's refusal>` on a ReplicaSet, DaemonSet or Job,
`Create Pod <pod> in StatefulSet <set> failed error: <refusal>` on a StatefulSet. No pod exists,
so nothing else names the cause: the Deployment only reads "0 of 1 updated". The refusal is an
admission plugin's or webhook's, and each has its own fix; on Talos the usual one is Pod
Security admission, which enforces the `baseline` level in every namespace not labelled
otherwise. The controllers retry with a backoff, so a refusal that was a moment's race (a
ServiceAccount the same apply creates, a webhook still starting) clears by itself; one seen five
times or for PERSISTENT is stuck.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from appliance.blockers.evidence import (
    PERSISTENT,
    earliest,
    evidence,
    login_critical,
    short,
    signal_tier,
)
from appliance.blockers.registry import Covered, detector
from appliance.canonical import Blocker, Evidence
from appliance.indexing import Index, Signal

__all__ = ["LAYER_POD_ADMISSION", "Refusal", "refusal_of"]

LAYER_POD_ADMISSION = "Pod admission"
# The owners whose controllers create pods through the API and report a refused one.
_OWNERS = frozenset({"ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"})
# The refusal inside the controllers' sentences (controller_utils.go, stateful_pod_control.go).
_WRAPPERS = (
    re.compile(r"^Error creating: (?P<refusal>.*)$", re.S),
    # v1.37 title-cases the verb (cases.Title); a lower-case one is read as well
    re.compile(r"^[Cc]reate Pod \S+ in StatefulSet \S+ failed error: (?P<refusal>.*)$", re.S),
)
_FORBIDDEN = re.compile(r'^pods(?: "[^"]*")? is forbidden: (?P<why>.*)$', re.S)
_ACCOUNT = re.compile(r"error looking up service account (?P<ns>[^/\s]+)/(?P<name>[^:\s]+):")
_QUOTA = re.compile(r"exceeded quota: (?P<name>[^,\s]+)")
_POD_SECURITY = re.compile(r'violates PodSecurity "(?P<level>[^"]+)"')
_LIMIT_RANGE = re.compile(
    r"(?:(?:maximum|minimum) \S+ (?:usage|storage)|limit to request ratio) per "
)
_PRIORITY = re.compile(r"no PriorityClass with name (?P<name>\S+) was found")
_WEBHOOK_DENIED = re.compile(r'admission webhook "(?P<name>[^"]+)" denied the request')
_WEBHOOK_FAILED = re.compile(r'failed calling webhook "(?P<name>[^"]+)"')
_TERMINATING = re.compile(r"because it is being terminated")


class Refusal(NamedTuple):
    """Why the API refused a pod, and what to do about it."""

    cause: str
    action: str
    # A cause that can clear with time alone (a webhook starting), whatever its age.
    transient: bool = False


def refusal_of(message: str, namespace: str, owner: str) -> Refusal:
    """The refusal a FailedCreate message quotes, classified; `owner` is `kind/name`."""
    refused = _refusal_text(message)
    forbidden = _FORBIDDEN.match(refused)
    why = forbidden["why"] if forbidden else refused
    for pattern, explain in _CAUSES:
        if found := pattern.search(why):
            return explain(found, _Where(namespace, owner, short(why, 240)))
    return Refusal(
        f"the API refuses them ({short(refused, 240)})",
        f"`kubectl -n {namespace} describe {owner.replace('/', ' ')}` shows each refusal.",
    )


class _Where(NamedTuple):
    namespace: str
    owner: str
    why: str  # the refusal, on one line


def _missing_account(found: re.Match[str], at: _Where) -> Refusal:
    account = found["name"]
    return Refusal(
        f"its ServiceAccount {account} does not exist in {found['ns']}",
        f"Create it (`kubectl -n {at.namespace} create serviceaccount {account}`) or fix "
        f"serviceAccountName in the pod template of {at.owner}; the controller retries by itself.",
    )


def _quota(found: re.Match[str], at: _Where) -> Refusal:
    return Refusal(
        f"the namespace's ResourceQuota is used up ({at.why})",
        f"See what uses it: `kubectl -n {at.namespace} describe resourcequota {found['name']}`; "
        "raise its limits or free what holds them.",
    )


def _pod_security(found: re.Match[str], at: _Where) -> Refusal:
    return Refusal(
        f"Pod Security admission refuses them ({at.why})",
        f"Remove what the message names from the pod template of {at.owner}, or, if the pods "
        f"need it, let the namespace run them: `kubectl label namespace {at.namespace} "
        "pod-security.kubernetes.io/enforce=privileged` (Talos enforces `baseline` by default).",
    )


def _limit_range(found: re.Match[str], at: _Where) -> Refusal:
    return Refusal(
        f"a LimitRange bounds them ({at.why})",
        f"Compare the resources in the pod template of {at.owner} with `kubectl -n "
        f"{at.namespace} describe limitrange`, and change one of them.",
    )


def _priority(found: re.Match[str], at: _Where) -> Refusal:
    return Refusal(
        f"their PriorityClass {found['name']} does not exist",
        f"Create the PriorityClass or fix priorityClassName in the pod template of {at.owner}.",
    )


def _webhook_denied(found: re.Match[str], at: _Where) -> Refusal:
    return Refusal(
        f"the admission webhook {found['name']} denies them ({at.why})",
        f"Change the pod template of {at.owner} to meet the webhook's policy, or the policy: "
        "`kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations`.",
    )


def _webhook_silent(found: re.Match[str], at: _Where) -> Refusal:
    return Refusal(
        f"the admission webhook {found['name']} does not answer ({at.why})",
        "Check the webhook's Service and pods (`kubectl get validatingwebhookconfigurations,"
        "mutatingwebhookconfigurations -o wide`); creates go on once it answers.",
        transient=True,
    )


def _terminating(found: re.Match[str], at: _Where) -> Refusal:
    return Refusal(
        f"namespace {at.namespace} is being deleted",
        f"Wait for the deletion to end (`kubectl get namespace {at.namespace}`), then let Flux "
        "apply it again.",
    )


# In the order they are tried: a message matching two (a webhook's words quoting a quota) is
# the first one's.
_CAUSES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], _Where], Refusal]], ...] = (
    (_WEBHOOK_DENIED, _webhook_denied),
    (_WEBHOOK_FAILED, _webhook_silent),
    (_ACCOUNT, _missing_account),
    (_QUOTA, _quota),
    (_POD_SECURITY, _pod_security),
    (_LIMIT_RANGE, _limit_range),
    (_PRIORITY, _priority),
    (_TERMINATING, _terminating),
)


def _refusal_text(message: str) -> str:
    for wrapper in _WRAPPERS:
        if found := wrapper.match(message):
            return found["refusal"]
    return message


@detector(layer=LAYER_POD_ADMISSION, rank=75, specialised=True)
def detect_refused_pods(index: Index, covered: Covered) -> list[Blocker]:
    """A workload whose pods the API refuses (FailedCreate), one blocker per owner, named by
    its Deployment when a ReplicaSet's; and a Deployment whose ReplicaFailure condition says
    so when the Events are gone (kube-apiserver keeps them an hour, the condition stays)."""
    found = _from_events(index)
    now = index.snapshot.server_time
    for view in index.workloads:
        failure = view.conditions.get("ReplicaFailure")
        owner, namespace = f"Deployment/{view.ref.name}", view.ref.namespace or "default"
        if view.ref.kind != "Deployment" or failure is None or not failure.true:
            continue
        if (namespace, owner) in found:
            continue  # its ReplicaSet's Events said it already
        refusal = refusal_of(failure.message or failure.reason or "", namespace, owner)
        since = failure.since
        stuck = not refusal.transient and since is not None and now - since > PERSISTENT
        message = failure.message or ""
        found[namespace, owner] = _blocker(
            owner,
            refusal,
            (view.component, view.ref.namespace),
            retryable=not stuck,
            since=since,
            evidence=[Evidence(object=str(view.ref), message=message, since=since)],
        )
    return list(found.values())


def _from_events(index: Index) -> dict[tuple[str, str], Blocker]:
    """The blockers the FailedCreate Events give, by (namespace, owner)."""
    groups: dict[str, list[Signal]] = {}
    for s in index.signals:
        if s.source == "event" and s.reason == "FailedCreate" and s.kind in _OWNERS:
            groups.setdefault(s.object, []).append(s)
    found: dict[tuple[str, str], Blocker] = {}
    now = index.snapshot.server_time
    for group in groups.values():
        newest = max(group, key=lambda s: s.since or s.first_seen or now)
        namespace = newest.namespace or "default"
        owner = _owner_named(index, newest)
        refusal = refusal_of(newest.message, namespace, owner)
        first = earliest(group)
        seen = sum(s.occurrences for s in group)
        stuck = not refusal.transient and (
            seen >= 5 or (first is not None and now - first > PERSISTENT)
        )
        found[namespace, owner] = _blocker(
            owner,
            refusal,
            (newest.component, newest.namespace),
            retryable=not stuck,
            since=first,
            evidence=evidence(group),
        )
    return found


def _blocker(
    owner: str,
    refusal: Refusal,
    where: tuple[str | None, str | None],
    *,
    retryable: bool,
    since: datetime | None,
    evidence: list[Evidence],
) -> Blocker:
    component, namespace = where
    return Blocker(
        layer=LAYER_POD_ADMISSION,
        component=component,
        reason=f"{owner} cannot create its pods: {refusal.cause}.",
        next_action=refusal.action,
        login_blocking=login_critical(signal_tier(component, namespace)),
        retryable=retryable,
        since=since,
        evidence=evidence,
    )


def _owner_named(index: Index, signal: Signal) -> str:
    """`Deployment/web` for ReplicaSet web-5d4f8 of a Deployment in the snapshot, else the
    signal's own `Kind/name`."""
    if signal.kind == "ReplicaSet":
        deployment = signal.name.rpartition("-")[0]
        wanted = ("Deployment", signal.namespace, deployment)
        if any((v.ref.kind, v.ref.namespace, v.ref.name) == wanted for v in index.workloads):
            return f"Deployment/{deployment}"
    return f"{signal.kind}/{signal.name}"
