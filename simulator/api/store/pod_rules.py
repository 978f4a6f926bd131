"""What kube-apiserver checks in a pod's spec, wherever one is (a Pod, a workload's template, a
CronJob's job template): containers named (DNS-1123 labels, unique, init containers included),
each with an image, ports in range, mounts of volumes that exist, and the restart policies the
owner allows. A subset of apimachinery's ValidatePodSpec, in its words: a client shows the same
refusal on both backends (the judge test compares them with a real control plane).
"""

from __future__ import annotations

from typing import Any

from simulator.api.names import label_errors

__all__ = ["pod_errors"]

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
    return errors + restart


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
        for j, port in enumerate(container.get("ports") or []):
            number = port.get("containerPort") if isinstance(port, dict) else None
            if not number:
                errors.append(f"{at}.ports[{j}].containerPort: Required value")
            elif isinstance(number, int) and not 1 <= number <= 65535:
                errors.append(
                    f"{at}.ports[{j}].containerPort: Invalid value: {number}: must be between 1 "
                    "and 65535, inclusive"
                )
        for k, mount in enumerate(container.get("volumeMounts") or []):
            mounted = mount.get("name") if isinstance(mount, dict) else None
            if mounted and mounted not in volumes:
                errors.append(f'{at}.volumeMounts[{k}].name: Not found: "{mounted}"')
    return errors


def _restart_policy(policy: Any, path: str, allowed: tuple[str, ...]) -> list[str]:
    if policy in allowed:
        return []
    listed = ", ".join(f'"{p}"' for p in allowed)
    if allowed == ("OnFailure", "Never"):  # a Job's message, whatever was given
        return [f"{path}: Required value: valid values: {listed}"]
    return [f'{path}: Unsupported value: "{policy}": supported values: {listed}']
