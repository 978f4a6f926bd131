"""What kube-apiserver checks in a pod's spec, wherever one is (a Pod, a workload's template, a
CronJob's job template): containers named (DNS-1123 labels, unique, init containers included),
each with an image, ports in range (named as IANA service names, a known protocol), mounts of
volumes that exist, a known image pull policy, requests no larger than limits, a user ID in
range, probes with a handler, and the restart policies the owner allows. A subset of
ValidatePodSpec, in its words: a client shows the same refusal on both backends (the judge test
compares them with a real control plane).
"""

from __future__ import annotations

import re
from typing import Any

from simulator.api.names import label_errors
from simulator.api.quantities import quantity_value
from simulator.api.store.go_values import not_supported
from simulator.api.store.label_rules import labels_errors

__all__ = [
    "ephemeral_errors",
    "pod_errors",
    "port_name_errors",
]

_ANY: tuple[str, ...] = ("Always", "OnFailure", "Never")
# The restart policies a pod template's owner allows (a Job's pods must end).
_TEMPLATE_OWNERS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("", "ReplicationController"): ("spec.template.spec", ("Always",)),
    ("", "PodTemplate"): ("template.spec", _ANY),
    ("apps", "Deployment"): ("spec.template.spec", ("Always",)),
    ("apps", "ReplicaSet"): ("spec.template.spec", ("Always",)),
    ("apps", "StatefulSet"): ("spec.template.spec", ("Always",)),
    ("apps", "DaemonSet"): ("spec.template.spec", ("Always",)),
    ("batch", "Job"): ("spec.template.spec", ("OnFailure", "Never")),
    ("batch", "CronJob"): ("spec.jobTemplate.spec.template.spec", ("OnFailure", "Never")),
}


def pod_errors(group: str, kind: str, obj: dict[str, Any]) -> list[str]:
    """Field errors of the pod spec `obj` holds, if its kind holds one ([] when valid)."""
    if (group, kind) == ("", "Pod"):
        where, allowed = "spec", _ANY
    elif (group, kind) in _TEMPLATE_OWNERS:
        where, allowed = _TEMPLATE_OWNERS[(group, kind)]
    else:
        return []
    spec: Any = obj
    for key in where.split("."):
        spec = spec.get(key) if isinstance(spec, dict) else None
    if not isinstance(spec, dict):
        return []
    # Validated after defaulting, which gives every pod spec `Always` (a Job's too: refused).
    restart = _restart_policy(
        spec.get("restartPolicy") or "Always", f"{where}.restartPolicy", allowed
    )
    volumes = {v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict)}
    if (group, kind) == ("apps", "StatefulSet"):  # its claims are its pods' volumes too
        claims = (obj.get("spec") or {}).get("volumeClaimTemplates") or []
        volumes |= {c.get("metadata", {}).get("name") for c in claims if isinstance(c, dict)}
    names: set[str] = set()
    errors = _containers(spec.get("containers"), f"{where}.containers", volumes, names)
    if not spec.get("containers"):
        errors.insert(0, f"{where}.containers: Required value")
    errors += _containers(spec.get("initContainers"), f"{where}.initContainers", volumes, names)
    return errors + restart + labels_errors(spec.get("nodeSelector"), f"{where}.nodeSelector")


def _containers(containers: Any, path: str, volumes: set[Any], names: set[str]) -> list[str]:
    errors: list[str] = []
    for i, container in enumerate(containers if isinstance(containers, list) else []):
        if not isinstance(container, dict):
            continue
        at = f"{path}[{i}]"
        name = container.get("name")
        if not name:
            errors.append(f"{at}.name: Required value")
        elif name in names:
            errors.append(f'{at}.name: Duplicate value: "{name}"')
        else:
            errors += [f'{at}.name: Invalid value: "{name}": {e}' for e in label_errors(str(name))]
            names.add(str(name))
        if not container.get("image"):
            errors.append(f"{at}.image: Required value")
        errors += _ports(container.get("ports"), f"{at}.ports")
        for k, mount in enumerate(container.get("volumeMounts") or []):
            mounted = mount.get("name") if isinstance(mount, dict) else None
            if mounted and mounted not in volumes:
                errors.append(f'{at}.volumeMounts[{k}].name: Not found: "{mounted}"')
        policy = container.get("imagePullPolicy")
        if policy and policy not in _PULL_POLICIES:
            errors.append(not_supported(f"{at}.imagePullPolicy", policy, _PULL_POLICIES))
        errors += _resources(container.get("resources"), f"{at}.resources")
        context = container.get("securityContext")
        user = context.get("runAsUser") if isinstance(context, dict) else None
        if isinstance(user, int) and not 0 <= user <= 2**31 - 1:
            errors.append(
                f"{at}.securityContext.runAsUser: Invalid value: {user}: must be between 0 and "
                "2147483647, inclusive"
            )
        if not path.endswith("initContainers"):  # an init container's probes are another rule
            errors += [
                f"{at}.{probe}: Required value: must specify a handler type"
                for probe in ("livenessProbe", "readinessProbe", "startupProbe")
                if isinstance(container.get(probe), dict)
                and not any(h in container[probe] for h in _HANDLERS)
            ]
    return errors


_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc", "sleep")
_PORT_NAME = re.compile("[-a-z0-9]+")


def _ports(ports: Any, path: str) -> list[str]:
    """validateContainerPorts: a name (an IANA service name, unique), the port numbers in
    range, a known protocol."""
    errors: list[str] = []
    named: set[str] = set()
    for j, port in enumerate(ports if isinstance(ports, list) else []):
        if not isinstance(port, dict):
            continue
        at, name = f"{path}[{j}]", str(port.get("name") or "")
        problems = port_name_errors(name) if name else []
        errors += [f'{at}.name: Invalid value: "{name}": {problem}' for problem in problems]
        if name and not problems and name in named:
            errors.append(f'{at}.name: Duplicate value: "{name}"')
        named.add(name)
        for key in ("containerPort", "hostPort"):
            number = port.get(key)
            if key == "containerPort" and not number:
                errors.append(f"{at}.containerPort: Required value")
            elif isinstance(number, int) and number and not 1 <= number <= 65535:
                errors.append(
                    f"{at}.{key}: Invalid value: {number}: must be between 1 and 65535, inclusive"
                )
        protocol = port.get("protocol")
        if protocol and protocol not in _PROTOCOLS:
            errors.append(not_supported(f"{at}.protocol", protocol, _PROTOCOLS))
    return errors


def port_name_errors(name: str) -> list[str]:
    """apimachinery's IsValidPortName."""
    errors = ["must be no more than 15 characters"] if len(name) > 15 else []
    if not _PORT_NAME.fullmatch(name):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", name):
        errors.append("must contain at least one letter (a-z)")
    if "--" in name:
        errors.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def _resources(resources: Any, path: str) -> list[str]:
    """A request no larger than its limit (cpu and memory may be overcommitted below it)."""
    if not isinstance(resources, dict):
        return []
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    errors = []
    for name, wanted in requests.items() if isinstance(requests, dict) else ():
        limit = limits.get(name) if isinstance(limits, dict) else None
        if limit is not None and quantity_value(wanted) > quantity_value(limit):
            errors.append(
                f'{path}.requests: Invalid value: "{wanted}": must be less than or equal to '
                f"{name} limit of {limit}"
            )
    return errors


def _restart_policy(policy: Any, path: str, allowed: tuple[str, ...]) -> list[str]:
    if policy in allowed:
        return []
    listed = ", ".join(f'"{p}"' for p in allowed)
    if allowed == ("OnFailure", "Never"):  # a Job's message, whatever was given
        return [f"{path}: Required value: valid values: {listed}"]
    return [not_supported(path, policy, allowed)]


def ephemeral_errors(live: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """ValidatePodEphemeralContainersUpdate (pods/ephemeralcontainers, `kubectl debug`): a new
    ephemeral container is named (a DNS label no other container of the pod has) and has an
    image; one that exists may be neither removed nor changed (kube-apiserver adds a go-cmp
    diff after a change's message, not reproduced here)."""
    path = "spec.ephemeralContainers"
    spec, old_spec = new.get("spec") or {}, live.get("spec") or {}
    wanted = [c for c in spec.get("ephemeralContainers") or [] if isinstance(c, dict)]
    had = [c for c in old_spec.get("ephemeralContainers") or [] if isinstance(c, dict)]
    taken = {
        c.get("name") for key in ("containers", "initContainers") for c in old_spec.get(key) or []
    }
    errors = _containers(wanted, path, set(), set(taken))
    by_name = {c.get("name"): c for c in wanted}
    for old in had:
        name = old.get("name")
        if name not in by_name:
            errors.append(
                f'{path}: Forbidden: existing ephemeral containers "{name}" may not be removed\n'
            )
        elif by_name[name] != old:
            errors.append(
                f'{path}: Forbidden: existing ephemeral containers "{name}" may not be changed'
            )
    return errors
