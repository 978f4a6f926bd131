"""What kube-apiserver checks in a workload's spec beyond its pod template (apps/v1 Deployments,
ReplicaSets, StatefulSets, DaemonSets: a selector that matches the template's labels, replicas
not negative, a known Deployment strategy) and in a PersistentVolumeClaim's (access modes, a
storage request); what an update may not change is immutable_specs.py's. A subset of
pkg/apis/{apps,core}/validation, in its words.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.api.selectors import SelectorError, selector_from_match
from simulator.api.store.go_values import not_supported
from simulator.api.store.label_rules import selector_errors

__all__ = ["spec_errors"]

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
    errors: list[str] = []
    replicas = spec.get("replicas")
    if kind != "DaemonSet" and isinstance(replicas, int) and replicas < 0:
        errors.append(
            f"spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
        )
    errors += _selector(kind, spec)
    strategy = spec.get("strategy") or {}
    kind_of = strategy.get("type")
    if kind == "Deployment" and kind_of in (None, "Recreate", "RollingUpdate"):
        errors += _strategy(kind_of or "RollingUpdate", strategy.get("rollingUpdate"))
    elif kind == "Deployment" and kind_of is not None:
        shown = json.dumps({"Type": kind_of, "RollingUpdate": strategy.get("rollingUpdate")})
        errors.append(
            f"spec.strategy: Unsupported value: {shown.replace(', ', ',').replace(': ', ':')}: "
            'supported values: "Recreate", "RollingUpdate"'
        )
    return errors


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
