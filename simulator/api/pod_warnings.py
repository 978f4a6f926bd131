"""The warnings a written Pod or pod template gets (k8s.io/kubernetes v1.37 pkg/api/pod/warnings.go,
the registry's WarningsOnCreate/WarningsOnUpdate), then Pod Security's warn mode
(store/pod_security.py): what `kubectl apply` prints as `Warning: ...` before its result. A
claim's or a volume's come from volume_warnings.py, through the same entry.

First a name that is no DNS label (a Pod's, a Deployment's, a ReplicaSet's, a Job's...), on
create. Of warnings.go: deprecated node labels in a nodeSelector or a topology spread
constraint, a null labelSelector (spread constraints, pod affinity), deprecated annotations
(critical-pod, sysctls, seccomp, a template's AppArmor), deprecated volume plugins, duplicate
host alias IPs, duplicate or empty image pull secret names, duplicate env names that hide an
earlier one, duplicate, overlapping or ambiguous ports, duplicate port names, a negative
termination grace period. Not modelled: node affinity terms' labels, fractional byte quantities,
overlapping volume paths, IP formats, an ephemeral volume's claim, hostIP without hostPort.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from simulator.api.asgi import Route
from simulator.api.names import label_errors
from simulator.api.store import ObjectStore
from simulator.api.store.pod_security import pod_security_warning
from simulator.api.volume_warnings import DEPRECATED_PLUGINS, volume_warnings

__all__ = ["generation_before", "written_pod_warnings"]

Obj = dict[str, Any]
# Where each kind keeps its pod template (pod/warnings.go's GetWarningsForPodTemplate callers).
_TEMPLATE_PATHS = {
    "PodTemplate": ("template",),
    "ReplicationController": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
_WARNED_KINDS = frozenset({"Pod", *_TEMPLATE_PATHS})
_VOLUME_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume"})
# The kinds whose name becomes their pods' names and hostnames (their WarningsOnCreate).
_NAMED_HOSTS = {
    "Pod": "the Pod's hostname",
    **dict.fromkeys(
        ("Deployment", "ReplicaSet", "ReplicationController", "Job", "CronJob"),
        "Pod names and hostnames",
    ),
}
_NODE_LABELS = {
    "beta.kubernetes.io/arch": 'deprecated since v1.14; use "kubernetes.io/arch" instead',
    "beta.kubernetes.io/os": 'deprecated since v1.14; use "kubernetes.io/os" instead',
    "failure-domain.beta.kubernetes.io/region": (
        'deprecated since v1.17; use "topology.kubernetes.io/region" instead'
    ),
    "failure-domain.beta.kubernetes.io/zone": (
        'deprecated since v1.17; use "topology.kubernetes.io/zone" instead'
    ),
    "beta.kubernetes.io/instance-type": (
        'deprecated since v1.17; use "node.kubernetes.io/instance-type" instead'
    ),
    "app.kubernetes.io/created-by": "deprecated since v1.9",
    "scheduler.alpha.kubernetes.io/preferAvoidPods": (
        "deprecated since v1.22; use Taints and Tolerations instead"
    ),
    "node-role.kubernetes.io/master": 'use "node-role.kubernetes.io/control-plane" instead',
}
_ANNOTATIONS = (
    (
        "scheduler.alpha.kubernetes.io/critical-pod",
        'non-functional in v1.16+; use the "priorityClassName" field instead',
    ),
    (
        "security.alpha.kubernetes.io/sysctls",
        'non-functional in v1.11+; use the "sysctls" field instead',
    ),
    (
        "security.alpha.kubernetes.io/unsafe-sysctls",
        'non-functional in v1.11+; use the "sysctls" field instead',
    ),
)
_SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
_SECCOMP_CONTAINER = "container.seccomp.security.alpha.kubernetes.io/"
_APP_ARMOR = "container.apparmor.security.beta.kubernetes.io/"
_SECCOMP_WORDS = 'non-functional in v1.27+; use the "seccompProfile" field instead'
_NULL_SELECTOR = "a null labelSelector results in matching no pod"


def generation_before(store: ObjectStore, route: Route) -> int | None:
    """The generation of the Pod or workload a write replaces (0 without one), None for a new
    one or another kind (not read: only these are warned about)."""
    info = route.info
    if info.group not in ("", "apps", "batch") or info.kind not in _WARNED_KINDS:
        return None
    stored = store.get(info.api_version, info.plural, route.name, route.namespace or None)
    return None if stored is None else int(stored["metadata"].get("generation") or 0)


def written_pod_warnings(
    store: ObjectStore, route: Route, obj: Obj, before: int | None
) -> list[str]:
    """The warnings of a Pod or workload written through `route` (none for other kinds, or a
    subresource's write); `before` is the generation the object had, None when it is new. A
    Pod is warned about when it is created only (its strategy gives no update warnings; Pod
    Security re-checks only an update of its containers, not modelled); a workload's template
    on every write, the registry's warnings only when its generation moved."""
    kind, namespace = obj.get("kind"), route.namespace
    if not route.subresource and route.info.group == "" and kind in _VOLUME_KINDS:
        return volume_warnings(obj)  # a claim's or a volume's, on every write
    if route.subresource or not namespace or kind not in _WARNED_KINDS:
        return []
    if kind == "Pod" and before is not None:
        return []
    generation = int((obj.get("metadata") or {}).get("generation") or 0)
    registry = _registry_warnings(obj) if before is None or generation != before else []
    registry = (_name_warnings(obj) if before is None else []) + registry
    labelled = store.get("v1", "Namespace", namespace)
    security = pod_security_warning(labelled, obj, store.pod_security)
    return [*registry, *([security] if security else [])]


def _name_warnings(obj: Obj) -> list[str]:
    """WarningsOnCreate's first: a name that is no DNS label, where it becomes a hostname."""
    kind, name = obj.get("kind"), str((obj.get("metadata") or {}).get("name") or "")
    messages = label_errors(name)
    if kind not in _NAMED_HOSTS or not messages:
        return []
    return [
        f"metadata.name: this is used in {_NAMED_HOSTS[str(kind)]}, which can result in "
        f"surprising behavior; a DNS label is recommended: [{' '.join(messages)}]"
    ]


def _registry_warnings(obj: Obj) -> list[str]:
    if obj.get("kind") == "Pod":
        return _spec_and_meta("", obj, template=False)
    template: Any = obj
    for key in _TEMPLATE_PATHS[str(obj.get("kind"))]:
        template = template.get(key) if isinstance(template, dict) else None
    if not isinstance(template, dict):
        return []
    prefix = ".".join(_TEMPLATE_PATHS[str(obj.get("kind"))]) + "."
    return _spec_and_meta(prefix, template, template=True)


def _containers(spec: Obj, at: str) -> Iterator[tuple[Obj, str]]:
    """Each container with its path (VisitContainersWithPath's order)."""
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for i, container in enumerate(spec.get(field) or []):
            if isinstance(container, dict):
                yield container, f"{at}spec.{field}[{i}]"


def _spec_and_meta(at: str, pod: Obj, *, template: bool) -> list[str]:
    """warningsForPodSpecAndMeta, for the parts modelled, in its order."""
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    out = _node_labels(at, spec)
    for key, words in _ANNOTATIONS:
        if key in annotations:
            out.append(f"{at}metadata.annotations[{key}]: {words}")
    for i, volume in enumerate(spec.get("volumes") or []):
        for field, named, words in DEPRECATED_PLUGINS:
            if volume.get(field) is not None:
                out.append(f"{at}spec.volumes[{i}].{named}: {words}")
    out += _duplicates(at, spec)
    context = spec.get("securityContext") or {}
    if not context.get("seccompProfile") and _SECCOMP_POD in annotations:
        out.append(f"{at}metadata.annotations[{_SECCOMP_POD}]: {_SECCOMP_WORDS}")
    for container, path in _containers(spec, at):
        out += _container_annotations(at, container, annotations, template=template)
        out += _hidden_env(container, path)
    out += _ports(spec, at)
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        words = "must be >= 0; negative values are invalid and will be treated as 1"
        out.append(f"{at}spec.terminationGracePeriodSeconds: {words}")
    return out + _affinity(at, spec)


def _node_labels(at: str, spec: Obj) -> list[str]:
    """Deprecated node labels, and null selectors, of the node selector and spread constraints."""
    out = [
        f"{at}spec.nodeSelector[{key}]: {_NODE_LABELS[key]}"
        for key in spec.get("nodeSelector") or {}
        if key in _NODE_LABELS
    ]
    for i, constraint in enumerate(spec.get("topologySpreadConstraints") or []):
        key = constraint.get("topologyKey")
        path = f"{at}spec.topologySpreadConstraints[{i}]"
        if key in _NODE_LABELS:
            out.append(f"{path}.topologyKey: {key} is {_NODE_LABELS[key]}")
        if constraint.get("labelSelector") is None:
            out.append(f"{path}.labelSelector: {_NULL_SELECTOR}")
    return out


def _container_annotations(
    at: str, container: Obj, annotations: Obj, *, template: bool
) -> list[str]:
    """A container's seccomp annotation without its field; a template's AppArmor one (a
    Pod's is the registry's sync, store/pod_app_armor.py)."""
    own, name, out = container.get("securityContext") or {}, container.get("name"), []
    if not own.get("seccompProfile") and f"{_SECCOMP_CONTAINER}{name}" in annotations:
        out.append(f"{at}metadata.annotations[{_SECCOMP_CONTAINER}{name}]: {_SECCOMP_WORDS}")
    if template and own.get("appArmorProfile") is None and f"{_APP_ARMOR}{name}" in annotations:
        words = 'deprecated since v1.30; use the "appArmorProfile" field instead'
        out.append(f"{at}metadata.annotations[{_APP_ARMOR}{name}]: {words}")
    return out


def _affinity(at: str, spec: Obj) -> list[str]:
    """Pod (anti-)affinity terms with a null label selector."""
    out: list[str] = []
    affinity = spec.get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        terms = affinity.get(kind) or {}
        base = f"{at}spec.affinity.{kind}"
        required = terms.get("requiredDuringSchedulingIgnoredDuringExecution") or []
        for i, term in enumerate(required):
            if term.get("labelSelector") is None:
                path = f"{base}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"
                out.append(f"{path}.labelSelector: {_NULL_SELECTOR}")
        preferred = terms.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        for i, term in enumerate(preferred):
            if (term.get("podAffinityTerm") or {}).get("labelSelector") is None:
                path = f"{base}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
                out.append(f"{path}.podAffinityTerm.labelSelector: {_NULL_SELECTOR}")
    return out


def _duplicates(at: str, spec: Obj) -> list[str]:
    """Duplicate host alias IPs, duplicate and empty image pull secret names."""
    out: list[str] = []
    aliases = spec.get("hostAliases") or []
    if len(aliases) > 1:
        seen: set[str] = set()
        for i, alias in enumerate(aliases):
            ip = str(alias.get("ip", ""))
            if ip in seen:
                out.append(f'{at}spec.hostAliases[{i}].ip: duplicate ip "{ip}"')
            seen.add(ip)
    secrets = spec.get("imagePullSecrets") or []
    if len(secrets) > 1:
        names: set[str] = set()
        for i, secret in enumerate(secrets):
            name = str(secret.get("name") or "")
            if name in names:
                out.append(f'{at}spec.imagePullSecrets[{i}].name: duplicate name "{name}"')
            names.add(name)
    for i, secret in enumerate(secrets):
        if not secret.get("name"):
            out.append(f'{at}spec.imagePullSecrets[{i}].name: invalid empty name ""')
    return out


def _hidden_env(container: Obj, path: str) -> list[str]:
    """An env name defined again in a way that hides the first definition."""
    out: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(container.get("env") or []):
        name = str(item.get("name", ""))
        if name not in seen:
            seen.add(name)
            continue
        ref, value = f"$({name})", str(item.get("value") or "")
        if item.get("valueFrom") is not None or value == ref or ref not in value:
            words = "which may be dropped when using apply"
            out.append(f'{path}.env[{i}]: hides previous definition of "{name}", {words}')
    return out


def _ports(spec: Obj, at: str) -> list[str]:
    """Duplicate, overlapping or ambiguous container ports, then duplicate port names."""
    out: list[str] = []
    by_port: dict[str, list[tuple[str, Obj]]] = {}
    for container, path in _containers(spec, at):
        for i, port in enumerate(container.get("ports") or []):
            here = f"{path}.ports[{i}]"
            key = f"{port.get('containerPort')}/{port.get('protocol', 'TCP')}"
            for other_path, other in by_port.get(key, []):
                ip, other_ip = port.get("hostIP") or "", other.get("hostIP") or ""
                host, other_host = port.get("hostPort") or 0, other.get("hostPort") or 0
                if ip == other_ip and host == other_host:
                    out.append(f"{here}: duplicate port definition with {other_path}")
                elif host == 0 or other_host == 0:
                    out.append(f"{here}: overlapping port definition with {other_path}")
                elif host == other_host and (ip == "") != (other_ip == ""):
                    out.append(f"{here}: dangerously ambiguous port definition with {other_path}")
            by_port.setdefault(key, []).append((here, port))
    named: dict[str, str] = {}
    for container, path in _containers(spec, at):
        for i, port in enumerate(container.get("ports") or []):
            name = port.get("name")
            if not name:
                continue
            here = f"{path}.ports[{i}]"
            if name in named:
                first = named[name]
                out.append(
                    f'{here}: duplicate port name "{name}" with {first}, services and probes '
                    f"that select ports by name will use {first}"
                )
            else:
                named[name] = here
    return out
