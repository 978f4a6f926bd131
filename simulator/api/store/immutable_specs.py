"""What an update may not change in a built-in kind's spec, as kube-apiserver v1.37 refuses it
(pkg/apis/{apps,batch,core}/validation's Validate*Update, their words and order):

- a workload's selector (every apps/v1 kind), and a StatefulSet's volumeClaimTemplates,
  serviceName and podManagementPolicy;
- a Job's completions (unless Indexed), selector, pod template (while it is suspended with no
  active pods, its scheduling directives and containers' resources excepted),
  completionMode, podFailurePolicy, backoffLimitPerIndex, managedBy and successPolicy;
- a Pod's spec beyond its containers' images, activeDeadlineSeconds (lowered only), tolerations
  (added only) and schedulingGates (removed only);
- a PersistentVolumeClaim's spec beyond its volumeName (set once) and, once bound, its storage
  request (lowered no further than its volume's capacity) and volumeAttributesClassName.

Both sides are compared as kube-apiserver compares them: the update decoded and defaulted (and
a Pod's priority carried over by admission). Not modelled: kube-apiserver writes a struct's
value as JSON of its internal Go type (`{"Spec":{"Volumes":null,...}}`), and the Pod's and the
claim's refusals end with a go-cmp diff of the two specs; the fake API writes the value as the
object's own JSON and leaves the diff out (the judge compares the rest).
"""

from __future__ import annotations

import copy
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.quantities import quantity_value
from simulator.api.store.go_values import bad_value, struct_value

__all__ = ["immutable_errors"]

Obj = dict[str, Any]
_IMMUTABLE = "field is immutable"
_APPS = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"})
_JOB_IMMUTABLE = (
    "completionMode",
    "podFailurePolicy",
    "backoffLimitPerIndex",
    "managedBy",
    "successPolicy",
)
_POD_UPDATABLE = ",".join(
    (
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)",
    )
)
_CLAIM_SPEC = (
    "spec is immutable after creation except resources.requests and volumeAttributesClassName "
    "for bound claims"
)


def immutable_errors(info: KindInfo, live: Obj, defaulted: Obj) -> list[str]:
    """The field errors of an update of `live` to `defaulted` (the candidate as kube-apiserver
    validates it: decoded, defaulted, admitted)."""
    group, kind = info.group, info.kind
    before, after = _spec(live), _spec(defaulted)
    if group == "apps" and kind in _APPS:
        return _workload(kind, before, after)
    if (group, kind) == ("batch", "Job"):
        return _job(live, before, after)
    if (group, kind) == ("", "Pod"):
        return _pod(before, after)
    if (group, kind) == ("", "PersistentVolumeClaim"):
        return _claim(live, before, after)
    return []


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _immutable(path: str, before: Any, after: Any, shown: str | None = None) -> list[str]:
    if before == after:
        return []
    return [f"{path}: Invalid value: {shown or bad_value(after)}: {_IMMUTABLE}"]


def _workload(kind: str, before: Obj, after: Obj) -> list[str]:
    errors = _selector("spec.selector", before, after)
    if kind == "StatefulSet":
        errors += _immutable(
            "spec.volumeClaimTemplates",
            before.get("volumeClaimTemplates") or [],
            after.get("volumeClaimTemplates") or [],
        )
        errors += _immutable(
            "spec.serviceName", before.get("serviceName", ""), after.get("serviceName", "")
        )
        errors += _immutable(
            "spec.podManagementPolicy",
            before.get("podManagementPolicy"),
            after.get("podManagementPolicy"),
        )
    return errors


def _selector(path: str, before: Obj, after: Obj) -> list[str]:
    old, new = before.get("selector"), after.get("selector")
    return _immutable(path, old, new, shown=_selector_json(new))


def _job(live: Obj, before: Obj, after: Obj) -> list[str]:
    errors: list[str] = []
    if after.get("completionMode") != "Indexed":
        errors += _immutable(
            "spec.completions", before.get("completions"), after.get("completions")
        )
    errors += _selector("spec.selector", before, after)
    errors += _job_template(live, before, after)
    for name in _JOB_IMMUTABLE:
        errors += _immutable(f"spec.{name}", before.get(name), after.get(name))
    return errors


def _job_template(live: Obj, before: Obj, after: Obj) -> list[str]:
    """A Job's template never changes, but while it is suspended (never started, or paused by
    its Suspended condition) with no active pods: then its scheduling directives and its
    containers' resources may (pkg/registry/batch/job shouldAllowMutablePodTemplate; both
    feature gates on by default since v1.36)."""
    template, old = after.get("template") or {}, copy.deepcopy(before.get("template") or {})
    status = live.get("status") or {}
    conditions = status.get("conditions") or []
    paused = any(c.get("type") == "Suspended" and c.get("status") == "True" for c in conditions)
    started = status.get("startTime") is not None
    if before.get("suspend") is not True or (started and not paused) or status.get("active"):
        return _immutable("spec.template", old, template)
    new_spec, old_spec = template.get("spec") or {}, old.setdefault("spec", {})
    for key in ("labels", "annotations"):
        _copy(old.setdefault("metadata", {}), (template.get("metadata") or {}), key)
    for key in ("nodeSelector", "tolerations", "schedulingGates"):
        _copy(old_spec, new_spec, key)
    node_affinity = (new_spec.get("affinity") or {}).get("nodeAffinity")
    affinity = dict(old_spec.get("affinity") or {})
    affinity.pop("nodeAffinity", None)
    if node_affinity is not None:
        affinity["nodeAffinity"] = node_affinity
    _copy(old_spec, {"affinity": affinity} if affinity else {}, "affinity")
    for key in ("containers", "initContainers"):
        _same_resources(old_spec.get(key) or [], new_spec.get(key) or [])
    return _immutable("spec.template.spec", old_spec, new_spec)


def _copy(target: Obj, source: Obj, key: str) -> None:
    if key in source:
        target[key] = source[key]
    else:
        target.pop(key, None)


def _same_resources(old: list[Obj], new: list[Obj]) -> None:
    """Give each old container the new one's resources where they line up by name."""
    if len(old) != len(new):
        return
    for was, now in zip(old, new, strict=True):
        if was.get("name") == now.get("name"):
            _copy(was, now, "resources")


def _pod(before: Obj, after: Obj) -> list[str]:
    errors: list[str] = []
    for key in ("containers", "initContainers"):
        old, new = before.get(key) or [], after.get(key) or []
        if len(old) != len(new):
            return [*errors, f"spec.{key}: Forbidden: pod updates may not add or remove containers"]
        errors += _images(key, new)
    deadline = _deadline(before.get("activeDeadlineSeconds"), after.get("activeDeadlineSeconds"))
    if deadline and "Invalid value: null" not in deadline[0]:
        return errors + deadline  # kube-apiserver stops there
    errors += deadline
    errors += _tolerations(before.get("tolerations") or [], after.get("tolerations") or [])
    errors += _gates(before.get("schedulingGates") or [], after.get("schedulingGates") or [])
    if before != after and _munged(before, after) != before:
        errors.append(
            f"spec: Forbidden: pod updates may not change fields other than {_POD_UPDATABLE}"
        )
    return errors


def _images(key: str, containers: list[Obj]) -> list[str]:
    errors = []
    for index, container in enumerate(containers):
        image = str(container.get("image") or "")
        if not image:
            errors.append(f"spec.{key}[{index}].image: Required value")
        elif image.strip() != image:
            errors.append(
                f"spec.{key}[{index}].image: Invalid value: {bad_value(image)}: must not have "
                "leading or trailing whitespace"
            )
    return errors


def _deadline(was: int | None, now: int | None) -> list[str]:
    """activeDeadlineSeconds may be set, or lowered, never raised or removed."""
    path = "spec.activeDeadlineSeconds: Invalid value"
    if now is not None and not 0 <= now <= 2**31 - 1:
        return [f"{path}: {now}: must be between 0 and 2147483647, inclusive"]
    if now is not None and was is not None and was < now:
        return [f"{path}: {now}: must be less than or equal to previous value"]
    if now is None and was is not None:
        return [f"{path}: null: must not update from a positive integer to nil value"]
    return []


def _munged(before: Obj, after: Obj) -> Obj:
    """`after` with what a pod update may change put back as it was (ValidatePodUpdate)."""
    munged = copy.deepcopy(after)
    for key in ("containers", "initContainers"):
        for container, old in zip(munged.get(key) or [], before.get(key) or [], strict=True):
            _copy(container, old, "image")
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        _copy(munged, before, key)
    grace = before.get("terminationGracePeriodSeconds")
    if grace is not None and grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = grace
    return munged


def _tolerations(old: list[Obj], new: list[Obj]) -> list[str]:
    for toleration in old:
        unchanged = {k: v for k, v in toleration.items() if k != "tolerationSeconds"}
        if not any(
            unchanged == {k: v for k, v in t.items() if k != "tolerationSeconds"} for t in new
        ):
            return [
                "spec.tolerations: Forbidden: existing toleration can not be modified except its "
                "tolerationSeconds"
            ]
    return []


def _gates(old: list[Obj], new: list[Obj]) -> list[str]:
    had = {gate.get("name") for gate in old}
    return [
        f"spec.schedulingGates[{index}].name: Forbidden: only deletion is allowed, but found new "
        f"scheduling gate '{gate.get('name')}'"
        for index, gate in enumerate(new)
        if gate.get("name") not in had
    ]


def _claim(live: Obj, before: Obj, after: Obj) -> list[str]:
    errors: list[str] = []
    old, new = copy.deepcopy(before), copy.deepcopy(after)
    if not old.get("volumeName"):
        _copy(old, new, "volumeName")
    bound = (live.get("status") or {}).get("phase") == "Bound"
    requests = (new.get("resources") or {}).get("requests")
    if bound and isinstance(requests, dict):
        was = ((old.get("resources") or {}).get("requests") or {}).get("storage")
        requests["storage"] = was
        if was is None:
            del requests["storage"]
    if bound:
        _copy(new, old, "volumeAttributesClassName")
    if old != new:
        errors.append(f"spec: Forbidden: {_CLAIM_SPEC}")
    old_size, new_size = (
        quantity_value(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
        for spec in (before, after)
    )
    # Lowered, a request may recover from a failed expansion, down to what the volume has
    # (RecoverVolumeExpansionFailure, GA since v1.34).
    capacity = quantity_value(((live.get("status") or {}).get("capacity") or {}).get("storage"))
    if new_size < old_size and new_size <= capacity:
        errors.append(
            "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
        )
    errors += _immutable("volumeMode", before.get("volumeMode"), after.get("volumeMode"))
    return errors


def _selector_json(selector: object) -> str:
    """A LabelSelector as Go's encoding/json writes it: its fields in the struct's order."""
    if not isinstance(selector, dict):
        return bad_value(selector)
    ordered: Obj = {}
    if selector.get("matchLabels"):
        ordered["matchLabels"] = dict(sorted(selector["matchLabels"].items()))
    if selector.get("matchExpressions"):
        ordered["matchExpressions"] = [
            {k: e[k] for k in ("key", "operator", "values") if e.get(k)}
            for e in selector["matchExpressions"]
        ]
    return struct_value(ordered)
