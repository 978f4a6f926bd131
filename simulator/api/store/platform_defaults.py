"""The defaults kube-apiserver v1.37 fills in the platform kinds a chart ships (k8s.io/kubernetes
pkg/apis/{admissionregistration,flowcontrol,storage,resource,core}/v1/defaults.go): a client
reading back a webhook configuration, an admission policy, a flow schema, a priority level, a CSI
driver, a resource slice or a limit range sees them, and
`kubectl apply` diffs against them. Checked field for field against a real control plane by
tests/integration/test_fake_api_vs_apiserver_platform.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["PLATFORM_DEFAULTERS"]

Obj = dict[str, Any]


def _webhook(webhook: Obj, *, mutating: bool) -> None:
    webhook.setdefault("failurePolicy", "Fail")
    webhook.setdefault("matchPolicy", "Equivalent")
    webhook.setdefault("namespaceSelector", {})
    webhook.setdefault("objectSelector", {})
    webhook.setdefault("timeoutSeconds", 10)
    if mutating:
        webhook.setdefault("reinvocationPolicy", "Never")
    for rule in webhook.get("rules") or []:
        rule.setdefault("scope", "*")
    service = (webhook.get("clientConfig") or {}).get("service")
    if isinstance(service, dict):
        service.setdefault("port", 443)


def _match_resources(match: Any) -> None:
    """An admission policy's (or binding's) MatchResources, defaulted like a webhook's."""
    if not isinstance(match, dict):
        return
    match.setdefault("matchPolicy", "Equivalent")
    match.setdefault("namespaceSelector", {})
    match.setdefault("objectSelector", {})
    for key in ("resourceRules", "excludeResourceRules"):
        for rule in match.get(key) or []:
            rule.setdefault("scope", "*")


def _admission_policy(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("failurePolicy", "Fail")
    _match_resources(spec.get("matchConstraints"))


def _admission_policy_binding(obj: Obj) -> None:
    _match_resources(obj.setdefault("spec", {}).get("matchResources"))


def _resource_slice(obj: Obj) -> None:
    pool = obj.setdefault("spec", {}).get("pool")
    if isinstance(pool, dict):
        pool.setdefault("generation", 0)


def _validating_webhooks(obj: Obj) -> None:
    for webhook in obj.get("webhooks") or []:
        _webhook(webhook, mutating=False)


def _mutating_webhooks(obj: Obj) -> None:
    for webhook in obj.get("webhooks") or []:
        _webhook(webhook, mutating=True)


def _flow_schema(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    if not spec.get("matchingPrecedence"):  # zero means "not set" in the v1 defaulter
        spec["matchingPrecedence"] = 1000


def _priority_level(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    limited, exempt = spec.get("limited"), spec.get("exempt")
    if isinstance(limited, dict):
        limited.setdefault("nominalConcurrencyShares", 30)
        limited.setdefault("lendablePercent", 0)
        response = limited.get("limitResponse") or {}
        queuing = response.get("queuing")
        if response.get("type") == "Queue" and isinstance(queuing, dict):  # required: no default
            for key, value in (("queues", 64), ("handSize", 8), ("queueLengthLimit", 50)):
                if not queuing.get(key):
                    queuing[key] = value
    if isinstance(exempt, dict):
        exempt.setdefault("nominalConcurrencyShares", 0)
        exempt.setdefault("lendablePercent", 0)


_CSI_DRIVER_DEFAULTS: Obj = {
    "attachRequired": True,
    "podInfoOnMount": False,
    "storageCapacity": False,
    "fsGroupPolicy": "ReadWriteOnceWithFSType",
    "requiresRepublish": False,
    "seLinuxMount": False,
    "preventPodSchedulingIfMissing": False,
}


def _csi_driver(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    for key, value in _CSI_DRIVER_DEFAULTS.items():
        spec.setdefault(key, value)
    if not spec.get("volumeLifecycleModes"):
        spec["volumeLifecycleModes"] = ["Persistent"]


def _limit_range(obj: Obj) -> None:
    """pkg/apis/core/v1 SetDefaults_LimitRangeItem: a Container limit's default is its max, and
    its default request its default, else its min, for each resource not given."""
    for item in (obj.get("spec") or {}).get("limits") or []:
        if not isinstance(item, dict) or item.get("type") != "Container":
            continue
        default = {**(item.get("max") or {}), **(item.get("default") or {})}
        request = {**(item.get("min") or {}), **default, **(item.get("defaultRequest") or {})}
        for field, values in (("default", default), ("defaultRequest", request)):
            if values:
                item[field] = dict(sorted(values.items()))


def _scaling_rules(given: Any, defaults: Obj) -> Obj:
    """copyHPAScalingRules: a behavior's rules over the defaults, each field set kept."""
    rules = dict(defaults)
    for key in ("selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"):
        if isinstance(given, dict) and given.get(key) is not None:
            rules[key] = given[key]
    return rules


def _autoscaler(obj: Obj) -> None:
    """autoscaling/v2 SetDefaults_HorizontalPodAutoscaler: one replica at least, 80% CPU when
    no metric is named, a behavior's rules filled (v1's form is not served)."""
    spec = obj.setdefault("spec", {})
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        target = {"type": "Utilization", "averageUtilization": 80}
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        up = [{"type": "Pods", "value": 4, "periodSeconds": 15}]
        up.append({"type": "Percent", "value": 100, "periodSeconds": 15})
        behavior["scaleUp"] = _scaling_rules(
            behavior.get("scaleUp"),
            {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": up},
        )
        down = [{"type": "Percent", "value": 100, "periodSeconds": 15}]
        behavior["scaleDown"] = _scaling_rules(
            behavior.get("scaleDown"), {"selectPolicy": "Max", "policies": down}
        )


PLATFORM_DEFAULTERS: dict[tuple[str, str], Callable[[Obj], None]] = {
    ("autoscaling", "HorizontalPodAutoscaler"): _autoscaler,
    ("", "LimitRange"): _limit_range,
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): _validating_webhooks,
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): _mutating_webhooks,
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): _flow_schema,
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): _priority_level,
    ("storage.k8s.io", "CSIDriver"): _csi_driver,
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): _admission_policy,
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"): _admission_policy,
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"): _admission_policy_binding,
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"): _admission_policy_binding,
    ("resource.k8s.io", "ResourceSlice"): _resource_slice,
}
