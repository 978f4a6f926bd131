"""The ServiceAccount and Priority admission plugins' work on a new Pod (k8s.io/kubernetes
v1.37 plugin/pkg/admission/serviceaccount and priority).

ServiceAccount: the pod runs as `default` unless it names an account; the account must exist
(a 403 for the API's creates); unless the pod or its account turn automounting off, every
container and init container mounts a projected `kube-api-access-*` volume (a bound token, the
cluster CA, the namespace) at the account's path; an account's image pull secrets become the
pod's when it names none. Priority: the pod's PriorityClass (else the global default one) gives
its priority and preemption policy; a class that does not exist, or a priority the pod gives
otherwise, is a 403. kube-apiserver runs them after the field manager has seen the create, so
what they add belongs to no manager.

Then the registry's AppArmor sync (`pod_app_armor.py`, its PrepareForCreate), and Pod Security
admission (`pod_security.py`), which validates the pod as these left it.

Not modelled: the LimitRanger plugin (a namespace's LimitRanges defaulting and bounding container
resources), mirror pods' restrictions, mountable-secret enforcement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.store.buckets import Buckets
from simulator.api.store.errors import ForbiddenError
from simulator.api.store.pod_app_armor import sync_app_armor
from simulator.api.store.pod_security import PodSecurityConfig, pod_security_refusal
from simulator.api.store.rules import name_suffix

__all__ = ["admit_pod", "readmit_pod"]

Obj = dict[str, Any]
_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
_VOLUME_PREFIX = "kube-api-access-"
_MIRROR = "kubernetes.io/config.mirror"


def _token_volume(name: str) -> Obj:
    """TokenVolumeSource(), in the Go structs' field order."""
    return {
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {
                    "configMap": {
                        "name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
            "defaultMode": 420,
        },
    }


def _mount_token(spec: Obj) -> None:
    """mountServiceAccountToken: a container with nothing at the path mounts the volume (an
    existing `kube-api-access-*` one, else a new one)."""
    volumes = [v for v in spec.get("volumes") or [] if isinstance(v, dict)]
    existing = next(
        (v["name"] for v in volumes if str(v.get("name", "")).startswith(_VOLUME_PREFIX)), None
    )
    name = existing or _VOLUME_PREFIX + name_suffix()
    needed = False
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        mounts = container.get("volumeMounts") or []
        if not any(m.get("mountPath") == _ACCOUNT_MOUNT_PATH for m in mounts):
            mount = {"name": name, "readOnly": True, "mountPath": _ACCOUNT_MOUNT_PATH}
            container["volumeMounts"] = [*mounts, mount]
            needed = True
    if needed and existing is None:
        spec.setdefault("volumes", []).append(_token_volume(name))


def admit_pod(
    buckets: Buckets, info: KindInfo, pod: Obj, strict: bool, security: PodSecurityConfig
) -> None:
    """Admit a new object of `info` as the plugins do (only Pods concern them); ForbiddenError,
    when `strict`, for what they refuse (an API create, or a controller's in the world; the
    world's other writes are not refused), Pod Security by the `security` configuration."""
    if (info.group, info.kind) != ("", "Pod"):
        return
    meta = pod["metadata"]
    spec = pod.setdefault("spec", {})
    refuse = _refusal(_name_at_admission(meta)) if strict else None
    namespace = str(meta.get("namespace", ""))
    if _MIRROR not in (meta.get("annotations") or {}):
        _service_account(buckets, namespace, spec, refuse)
    _priority(buckets, spec, refuse)
    sync_app_armor(pod)  # the registry's PrepareForCreate, between the two admission phases
    if refuse is not None:  # validating, after the mutating plugins above
        labelled = buckets.of_resource("", "namespaces").get(("", namespace))
        if violation := pod_security_refusal(labelled, pod, security):
            raise refuse(violation)


def readmit_pod(info: KindInfo, live: Obj, candidate: Obj) -> None:
    """The Priority plugin on an update: a pod that leaves out its priority or preemption policy
    keeps the one it was admitted with (rather than the defaults' 0)."""
    if (info.group, info.kind) != ("", "Pod"):
        return
    spec, admitted = candidate.get("spec"), live.get("spec") or {}
    for key in ("priority", "preemptionPolicy"):
        if isinstance(spec, dict) and spec.get(key) is None and admitted.get(key) is not None:
            spec[key] = admitted[key]


def _name_at_admission(meta: Obj) -> str:
    """The name admission errors give: kube-apiserver admits before it generates a name, so a
    pod created with generateName is `pods "web-7c9d-"` (admission's extractResourceName)."""
    name, prefix = str(meta.get("name", "")), meta.get("generateName")
    return prefix if isinstance(prefix, str) and prefix and name.startswith(prefix) else name


def _refusal(name: str) -> Callable[[str], ForbiddenError]:
    """admission.NewForbidden for the pod `name`: `pods "<name>" is forbidden: <why>`."""
    return lambda why: ForbiddenError(f'pods "{name}" is forbidden: {why}', name=name, kind="pods")


def _service_account(
    buckets: Buckets, namespace: str, spec: Obj, refuse: Callable[[str], ForbiddenError] | None
) -> None:
    """The ServiceAccount plugin: the account, its token volume, its pull secrets."""
    account_name = str(spec.get("serviceAccountName") or "default")
    spec["serviceAccountName"] = spec["serviceAccount"] = account_name
    account = buckets.of_resource("", "serviceaccounts").get((namespace, account_name))
    if account is None and refuse is not None:
        raise refuse(
            f"error looking up service account {namespace}/{account_name}: "
            f'serviceaccount "{account_name}" not found'
        )
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = (account or {}).get("automountServiceAccountToken")
    if automount is not False:
        _mount_token(spec)
    pulls = (account or {}).get("imagePullSecrets") or []
    if not spec.get("imagePullSecrets") and pulls:
        spec["imagePullSecrets"] = [{"name": str(s.get("name", ""))} for s in pulls]


def _priority(buckets: Buckets, spec: Obj, refuse: Callable[[str], ForbiddenError] | None) -> None:
    """The Priority plugin: the priority and preemption policy of the pod's PriorityClass (else
    of the global default class with the lowest value, whose name the pod then takes; else 0),
    refusing a class that does not exist and a priority or policy the pod gives otherwise."""
    classes = buckets.of_resource("scheduling.k8s.io", "priorityclasses")
    class_name = str(spec.get("priorityClassName") or "")
    chosen = classes.get(("", class_name)) if class_name else None
    if class_name and chosen is None:
        if refuse is not None:
            raise refuse(f"no PriorityClass with name {class_name} was found")
        return  # a world's pod of a class it never made: left to the defaults
    if not class_name:
        defaults = [c for c in classes.values() if c.get("globalDefault") is True]
        chosen = min(defaults, key=lambda c: int(c.get("value") or 0), default=None)
        if chosen is not None:
            spec["priorityClassName"] = chosen["metadata"]["name"]
    priority = int((chosen or {}).get("value") or 0)
    policy = str((chosen or {}).get("preemptionPolicy") or "PreemptLowerPriority")
    given, given_policy = spec.get("priority"), spec.get("preemptionPolicy")
    if refuse is not None and given is not None and given != priority:
        raise refuse(
            f"the integer value of priority ({given}) must not be provided in pod spec; "
            f"priority admission controller computed {priority} from the given PriorityClass name"
        )
    if refuse is not None and given_policy is not None and given_policy != policy:
        raise refuse(
            f"the string value of PreemptionPolicy ({given_policy}) must not be provided in pod "
            f"spec; priority admission controller computed {policy} from the given PriorityClass "
            "name"
        )
    spec["priority"], spec["preemptionPolicy"] = priority, policy
