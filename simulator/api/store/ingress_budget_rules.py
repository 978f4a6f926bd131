"""What kube-apiserver checks in an Ingress and a PodDisruptionBudget (pkg/apis/networking and
pkg/apis/policy validation, v1.37, in their words and order): an Ingress's hosts (DNS names,
`*.` wildcards, not IP addresses), paths (absolute, no `//` or `/../`, a pathType it knows),
backends (a service's name and one port, by name or number), TLS hosts and Secret names, and
class name; a budget's minAvailable or maxUnavailable (not both: its spec's value is the
internal Go struct's JSON) as a count or a percentage up to 100%, and its eviction policy.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from simulator.api.names import (
    SUBDOMAIN_PATTERN,
    label_errors,
    path_segment_errors,
    regex_error,
    subdomain_errors,
)
from simulator.api.store.go_values import bad_value, not_supported, struct_value
from simulator.api.store.label_rules import selector_errors
from simulator.api.store.pod_rules import port_name_errors

__all__ = ["ingress_budget_errors"]

Obj = dict[str, Any]
_WILDCARD = "\\*\\." + SUBDOMAIN_PATTERN
_WILDCARD_RE = re.compile(_WILDCARD)
_WILDCARD_MESSAGE = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
    "alphanumeric character"
)
_PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
_BAD_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_BAD_SUFFIXES = ("/..", "/.")
_PERCENT = "[0-9]+%"
_PERCENT_MESSAGE = "a valid percent string must be a numeric string followed by an ending '%'"
_EVICTION_POLICIES = ("AlwaysAllow", "IfHealthyBudget")
_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
_SLOPPY_IPV4 = re.compile(r"[0-9]+(\.[0-9]+){3}")


def ingress_budget_errors(group: str, kind: str, obj: Obj, *, creating: bool) -> list[str]:
    """Field errors of an Ingress or a PodDisruptionBudget ([] for any other kind)."""
    found = obj.get("spec")
    spec: Obj = found if isinstance(found, dict) else {}
    if (group, kind) == ("networking.k8s.io", "Ingress"):
        errors = _ingress(spec)
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        wanted, named = annotations.get(_CLASS_ANNOTATION), spec.get("ingressClassName")
        if creating and wanted is not None and named is not None and wanted != named:
            errors.append(
                f"annotations.{_CLASS_ANNOTATION}: Invalid value: {bad_value(wanted)}: "
                "must match `ingressClassName` when both are specified"
            )
        return errors
    if (group, kind) == ("policy", "PodDisruptionBudget"):
        return _budget(spec)
    return []


def _ingress(spec: Obj) -> list[str]:
    rules = spec.get("rules") or []
    errors = []
    if not rules and spec.get("defaultBackend") is None:
        errors.append(
            f"spec: Invalid value: {bad_value(spec.get('rules'))}: either `defaultBackend` or "
            "`rules` must be specified"
        )
    if isinstance(spec.get("defaultBackend"), dict):
        errors += _backend(spec["defaultBackend"], "spec.defaultBackend")
    for i, rule in enumerate(r for r in rules if isinstance(r, dict)):
        errors += _rule(rule, f"spec.rules[{i}]")
    for t, tls in enumerate(t for t in spec.get("tls") or [] if isinstance(t, dict)):
        for h, host in enumerate(tls.get("hosts") or []):
            errors += _host(str(host), f"spec.tls[{t}].hosts[{h}]", ip_checked=False)
        secret = tls.get("secretName") or ""
        where = f"spec.tls[{t}].secretName: Invalid value: {bad_value(secret)}"
        errors += [f"{where}: {m}" for m in (subdomain_errors(secret) if secret else [])]
    if spec.get("ingressClassName") is not None:
        name = str(spec["ingressClassName"])
        shown = f"spec.ingressClassName: Invalid value: {bad_value(name)}"
        errors += [f"{shown}: {m}" for m in subdomain_errors(name)]
    return errors


def _host(host: str, path: str, *, ip_checked: bool = True) -> list[str]:
    errors = []
    shown = f"{path}: Invalid value: {bad_value(host)}"
    if ip_checked and _is_ip(host):
        errors.append(f"{shown}: must be a DNS name, not an IP address")
    if "*" in host:
        messages = ["must be no more than 253 characters"] if len(host) > 253 else []
        if not _WILDCARD_RE.fullmatch(host):
            messages.append(regex_error(_WILDCARD_MESSAGE, _WILDCARD, "*.example.com"))
    else:
        messages = subdomain_errors(host)
    return errors + [f"{shown}: {m}" for m in messages]


def _is_ip(text: str) -> bool:
    """netutils.ParseIPSloppy: an address, IPv4's parts allowed leading zeros (`010.1.1.1`)."""
    if _SLOPPY_IPV4.fullmatch(text):
        return all(int(part) <= 255 for part in text.split("."))
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _rule(rule: Obj, path: str) -> list[str]:
    errors = _host(str(rule["host"]), f"{path}.host") if rule.get("host") else []
    http = rule.get("http")
    if not isinstance(http, dict):
        return errors
    paths = [p for p in http.get("paths") or [] if isinstance(p, dict)]
    if not paths:
        errors.append(f"{path}.http.paths: Required value")
    for i, item in enumerate(paths):
        errors += _path(item, f"{path}.http.paths[{i}]")
    return errors


def _path(item: Obj, path: str) -> list[str]:
    kind, value = item.get("pathType"), str(item.get("path") or "")
    if kind is None:
        return [f"{path}.pathType: Required value: pathType must be specified"]
    shown = f"{path}.path: Invalid value: {bad_value(value)}"
    errors = []
    if kind in ("Exact", "Prefix"):
        if not value.startswith("/"):
            errors.append(f"{shown}: must be an absolute path")
        errors += [f"{shown}: must not contain '{s}'" for s in _BAD_SEQUENCES if s in value]
        errors += [f"{shown}: cannot end with '{s}'" for s in _BAD_SUFFIXES if value.endswith(s)]
    elif kind == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errors.append(f"{shown}: must be an absolute path")
    else:
        errors.append(not_supported(f"{path}.pathType", kind, _PATH_TYPES))
    backend = item.get("backend")
    return errors + _backend(backend if isinstance(backend, dict) else {}, f"{path}.backend")


def _backend(backend: Obj, path: str) -> list[str]:
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        return [f'{path}: Invalid value: "": cannot set both resource and service backends']
    if resource is not None:
        return _resource_backend(resource if isinstance(resource, dict) else {}, f"{path}.resource")
    if not isinstance(service, dict):
        return [f'{path}: Invalid value: "": resource or service backend is required']
    name = str(service.get("name") or "")
    if not name:
        errors = [f"{path}.service.name: Required value"]
    else:
        shown = f"{path}.service.name: Invalid value: {bad_value(name)}"
        errors = [f"{shown}: {m}" for m in label_errors(name)]  # RelaxedServiceNameValidation
    found = service.get("port")
    port: Obj = found if isinstance(found, dict) else {}
    port_name, number = str(port.get("name") or ""), port.get("number") or 0
    if port_name and number:
        errors.append(f'{path}: Invalid value: "": cannot set both port name & port number')
    elif port_name:
        shown = f"{path}.service.port.name: Invalid value: {bad_value(port_name)}"
        errors += [f"{shown}: {m}" for m in port_name_errors(port_name)]
    elif number:
        if not (isinstance(number, int) and 1 <= number <= 65535):
            errors.append(
                f"{path}.service.port.number: Invalid value: {bad_value(number)}: "
                "must be between 1 and 65535, inclusive"
            )
    else:
        errors.append(f"{path}: Required value: port name or number is required")
    return errors


def _resource_backend(reference: Obj, path: str) -> list[str]:
    """validateIngressTypedLocalObjectReference: an API group that is a DNS subdomain, a kind
    and a name that can be path segments."""
    errors = []
    group = reference.get("apiGroup")
    if group is not None:
        shown = f"{path}.apiGroup: Invalid value: {bad_value(group)}"
        errors += [f"{shown}: {m}" for m in subdomain_errors(str(group))]
    for key in ("kind", "name"):
        value = str(reference.get(key) or "")
        if not value:
            errors.append(f"{path}.{key}: Required value")
            continue
        shown = f"{path}.{key}: Invalid value: {bad_value(value)}"
        errors += [f"{shown}: {m}" for m in path_segment_errors(value)]
    return errors


def _budget(spec: Obj) -> list[str]:
    errors = []
    least, most = spec.get("minAvailable"), spec.get("maxUnavailable")
    if least is not None and most is not None:
        internal = {
            "MinAvailable": least,
            "Selector": _sorted_selector(spec.get("selector")),
            "MaxUnavailable": most,
            "UnhealthyPodEvictionPolicy": spec.get("unhealthyPodEvictionPolicy"),
        }
        errors.append(
            f"spec: Invalid value: {struct_value(internal)}: minAvailable and maxUnavailable "
            "cannot be both set"
        )
    for key, value in (("minAvailable", least), ("maxUnavailable", most)):
        if value is not None:
            errors += _count_or_percent(value, f"spec.{key}")
    selector = spec.get("selector")
    errors += selector_errors(selector, "spec.selector") if isinstance(selector, dict) else []
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in _EVICTION_POLICIES:
        errors.append(not_supported("spec.unhealthyPodEvictionPolicy", policy, _EVICTION_POLICIES))
    return errors


def _sorted_selector(selector: Any) -> Any:
    """A LabelSelector as json.Marshal writes it: its matchLabels a Go map, keys sorted."""
    if not isinstance(selector, dict) or not isinstance(selector.get("matchLabels"), dict):
        return selector
    return {**selector, "matchLabels": dict(sorted(selector["matchLabels"].items()))}


def _count_or_percent(value: Any, path: str) -> list[str]:
    """ValidatePositiveIntOrPercent, then IsNotMoreThan100Percent."""
    shown = f"{path}: Invalid value: {bad_value(value)}"
    if isinstance(value, str):
        if not re.fullmatch(_PERCENT, value):
            return [f"{shown}: {regex_error(_PERCENT_MESSAGE, _PERCENT, '1%', '93%')}"]
        return [f"{shown}: must not be greater than 100%"] if int(value[:-1]) > 100 else []
    if isinstance(value, int) and value < 0:
        return [f"{shown}: must be greater than or equal to 0"]
    return []
