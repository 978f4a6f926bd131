"""What kube-apiserver checks in a workload's spec beyond its pod template (apps/v1 Deployments,
ReplicaSets, StatefulSets, DaemonSets: a selector that matches the template's labels, replicas
not negative, a known Deployment strategy) and in a PersistentVolumeClaim's (access modes, a
storage request); what an update may not change is immutable_specs.py's. A subset of
pkg/apis/{apps,core}/validation, in its words.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.api.names import label_errors
from simulator.api.selectors import SelectorError, selector_from_match
from simulator.api.store.go_values import not_supported
from simulator.api.store.label_rules import selector_errors

__all__ = ["errors_after_template", "spec_errors"]

_APPS = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"})
_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")


def spec_errors(group: str, kind: str, obj: dict[str, Any]) -> list[str]:
    """Field errors of an apps/v1 workload's or a PersistentVolumeClaim's spec."""
    found = obj.get("spec")
    spec: dict[str, Any] = found if isinstance(found, dict) else {}
    if group == "apps" and kind in _APPS:
        return _workload(kind, spec)
    if (group, kind) == ("", "PersistentVolumeClaim"):
        return _claim(spec)
    return []


def _workload(kind: str, spec: dict[str, Any]) -> list[str]:
    errors = _stateful_set_policies(spec) if kind == "StatefulSet" else []
    fields = ("replicas", "minReadySeconds") if kind == "StatefulSet" else ("replicas",)
    for field in fields if kind != "DaemonSet" else ():
        errors += _not_negative(f"spec.{field}", spec.get(field))
    service = spec.get("serviceName")
    if kind == "StatefulSet" and isinstance(service, str) and service:
        errors += [
            f'spec.serviceName: Invalid value: "{service}": {e}' for e in label_errors(service)
        ]
    return errors + _selector(kind, spec)


def errors_after_template(group: str, kind: str, obj: dict[str, Any]) -> list[str]:
    """Field errors ValidateDeploymentSpec finds after the pod template's: its strategy."""
    if (group, kind) != ("apps", "Deployment"):
        return []
    found = obj.get("spec")
    strategy = (found.get("strategy") if isinstance(found, dict) else None) or {}
    kind_of = strategy.get("type")
    if kind_of in (None, "Recreate", "RollingUpdate"):
        return _strategy(kind_of or "RollingUpdate", strategy.get("rollingUpdate"))
    shown = json.dumps({"Type": kind_of, "RollingUpdate": strategy.get("rollingUpdate")})
    return [
        f"spec.strategy: Unsupported value: {shown.replace(', ', ',').replace(': ', ':')}: "
        'supported values: "Recreate", "RollingUpdate"'
    ]


def _not_negative(path: str, value: Any) -> list[str]:
    """ValidateNonnegativeField."""
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [f"{path}: Invalid value: {value}: must be greater than or equal to 0"]
    return []


def _stateful_set_policies(spec: dict[str, Any]) -> list[str]:
    """ValidateStatefulSetSpec's first checks: the pod management policy and the update
    strategy (a rolling update's settings only with that type), each bad value quoted as Go
    writes the internal struct (its fields' Go names)."""
    errors: list[str] = []
    policy = spec.get("podManagementPolicy")
    if not policy:
        errors.append("spec.podManagementPolicy: Required value")
    elif policy not in ("OrderedReady", "Parallel"):
        errors.append(
            f"spec.podManagementPolicy: Invalid value: \"{policy}\": must be 'OrderedReady' or "
            "'Parallel'"
        )
    strategy = spec.get("updateStrategy") or {}
    kind_of, rolling = strategy.get("type"), strategy.get("rollingUpdate")
    path = "spec.updateStrategy"
    if not kind_of:
        errors.append(f"{path}: Required value")
    elif kind_of == "OnDelete" and rolling is not None:
        errors.append(
            f"{path}.rollingUpdate: Invalid value: {_internal_rolling(rolling)}: only allowed "
            "for updateStrategy 'RollingUpdate'"
        )
    elif kind_of == "RollingUpdate" and isinstance(rolling, dict):
        errors += _not_negative(f"{path}.rollingUpdate.partition", rolling.get("partition"))
        unavailable = rolling.get("maxUnavailable")
        if _zero(unavailable):
            errors.append(
                f"{path}.rollingUpdate.maxUnavailable: Invalid value: {_go_json(unavailable)}: "
                "cannot be 0"
            )
    elif kind_of not in ("OnDelete", "RollingUpdate"):
        shown = f'{{"Type":{_go_json(kind_of)},"RollingUpdate":{_internal_rolling(rolling)}}}'
        errors.append(f"{path}: Invalid value: {shown}: must be 'RollingUpdate' or 'OnDelete'")
    return errors


def _internal_rolling(rolling: Any) -> str:
    """A RollingUpdateStatefulSetStrategy as Go's JSON writes the internal type."""
    if not isinstance(rolling, dict):
        return "null"
    partition, unavailable = rolling.get("partition", 0), rolling.get("maxUnavailable")
    return f'{{"Partition":{_go_json(partition)},"MaxUnavailable":{_go_json(unavailable)}}}'


def _selector(kind: str, spec: dict[str, Any]) -> list[str]:
    """The selector in its kind's order: required, valid, not empty, usable (LabelSelector-
    AsSelector), then matching the template's labels (a DaemonSet checks emptiness last)."""
    selector = spec.get("selector")
    if selector is None:
        return ["spec.selector: Required value", *_template_match(None, spec)]
    if not isinstance(selector, dict):
        return []
    errors = selector_errors(selector, "spec.selector")
    shown = f"spec.selector: Invalid value: {_go_json(selector)}"
    named = "deployment" if kind in ("Deployment", "ReplicaSet") else kind.lower()
    empty = (
        []
        if selector.get("matchLabels") or selector.get("matchExpressions")
        else [f"{shown}: empty selector is invalid for {named}"]
    )
    usable = not errors
    if usable:
        try:
            selector_from_match(selector)
        except SelectorError:
            usable = False
    if kind == "DaemonSet":
        return errors + (_template_match(selector, spec) if usable else []) + empty
    if not usable:  # no template check: the selector could not be made
        # A StatefulSet's error has no detail: apimachinery then writes no ": " after the value.
        last = shown if kind == "StatefulSet" else f"{shown}: invalid label selector"
        return [*errors, *empty, last]
    return [*errors, *empty, *_template_match(selector, spec)]


def _template_match(selector: dict[str, Any] | None, spec: dict[str, Any]) -> list[str]:
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    # A missing selector selects nothing (labels.Nothing), so it matches no template either.
    if selector is not None and selector_from_match(selector).matches(labels):
        return []
    return [
        f"spec.template.metadata.labels: Invalid value: {_go_json(labels)}: `selector` does "
        "not match template `labels`"
    ]


def _strategy(kind_of: str, rolling: Any) -> list[str]:
    """ValidateDeploymentStrategy: Recreate takes no rollingUpdate; a rolling update moves."""
    path = "spec.strategy.rollingUpdate"
    if kind_of == "Recreate":
        if rolling is None:
            return []
        return [f"{path}: Forbidden: may not be specified when strategy `type` is 'Recreate'"]
    if not isinstance(rolling, dict):
        return []
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    if _zero(unavailable) and _zero(surge):
        return [
            f"{path}.maxUnavailable: Invalid value: {_go_json(unavailable)}: may not be 0 when "
            "`maxSurge` is 0"
        ]
    return []


def _zero(value: Any) -> bool:
    """An IntOrString that is 0 or 0% (not one left to its default)."""
    return value is not None and str(value).removesuffix("%") in ("0", "")


def _claim(spec: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    modes = spec.get("accessModes") or []
    if not modes:
        errors.append("spec.accessModes: Required value: at least 1 access mode is required")
    errors += [
        not_supported("spec.accessModes", mode, _ACCESS_MODES)
        for mode in modes
        if mode not in _ACCESS_MODES
    ]
    if "storage" not in ((spec.get("resources") or {}).get("requests") or {}):
        errors.append("spec.resources[storage]: Required value")
    return errors


def _go_json(value: Any) -> str:
    """A value as Go's encoding/json writes it in a field error: compact, map keys sorted."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
