"""Pod Security admission (k8s.io/pod-security-admission v0.37): the levels a namespace's labels
enforce and warn of, and the order of the checks (pod_security_baseline.py and
pod_security_restricted.py port them from policy/check_*.go, with their words).

A namespace labelled `pod-security.kubernetes.io/enforce: baseline` (or `restricted`, of which
the baseline checks are a part) refuses a new pod that breaks one of the baseline checks:
`pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces
(hostNetwork=true), hostPort (container "c" uses hostPort 80)`, each failed check's reason and
detail, in the order of the checks' IDs. `pod-security.kubernetes.io/enforce-version` picks the
checks of a release (`v1.30`; `latest`, the default, is v1.37's); a value that does not parse
is `latest`. Talos enforces `baseline` in every namespace by default (its admission
configuration); a plain kube-apiserver, and so the fake API, only where a label says so.

The `restricted` level adds its own checks (replacing four baseline ones from the release each
came in). The warn mode answers `would violate PodSecurity ...` as a warning: for an admitted
Pod, and for a workload's pod template on every create and update (warn defaults to a stricter
enforce level). Not modelled: the audit mode (annotations of audit events), exemptions, a Pod
update's re-evaluation, a label that does not parse (refused, or its default), and seccomp's
pre-1.19 annotations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.store import pod_security_baseline as base
from simulator.api.store import pod_security_restricted as restricted

__all__ = ["pod_security_refusal", "pod_security_warning"]

Obj = dict[str, Any]
Check = Callable[[Obj, Obj, tuple[int, int]], tuple[str, str] | None]
_PREFIX = "pod-security.kubernetes.io/"
_ENFORCE, _WARN = f"{_PREFIX}enforce", f"{_PREFIX}warn"
_LATEST = (1, 37)


def pod_security_refusal(namespace: Obj | None, pod: Obj) -> str | None:
    """`violates PodSecurity "baseline:latest": ...` when the namespace's enforce level refuses
    `pod` (as admitted so far), else None."""
    found = _evaluate(_labels(namespace), "enforce", pod.get("metadata") or {}, pod.get("spec"))
    return f"violates {found}" if found else None


def pod_security_warning(namespace: Obj | None, obj: Obj) -> str | None:
    """`would violate PodSecurity "restricted:latest": ...` for an admitted Pod, or a workload's
    pod template, that breaks the namespace's warn level (the enforce level when no warn label
    says otherwise and it is the stricter), else None."""
    template = _template(obj)
    if template is None:
        return None
    labels = _labels(namespace)
    if _WARN not in labels and _rank(labels.get(_ENFORCE)) > 0:
        labels = {**labels, _WARN: labels[_ENFORCE]}
        if f"{_WARN}-version" not in labels and f"{_ENFORCE}-version" in labels:
            labels[f"{_WARN}-version"] = labels[f"{_ENFORCE}-version"]
    found = _evaluate(labels, "warn", template.get("metadata") or {}, template.get("spec"))
    return f"would violate {found}" if found else None


def _labels(namespace: Obj | None) -> dict[str, str]:
    labels = ((namespace or {}).get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def _rank(level: object) -> int:
    return {"baseline": 1, "restricted": 2}.get(str(level), 0)


def _template(obj: Obj) -> Obj | None:
    """The pod, or a workload's pod template (the extractor's kinds), or None."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "Pod":
        return obj
    if kind == "PodTemplate":
        return obj.get("template") or {}
    if kind == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    if kind in _CONTROLLERS:
        return spec.get("template") or {}
    return None


_CONTROLLERS = frozenset(
    {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"}
)


def _evaluate(labels: dict[str, str], mode: str, meta: Obj, spec: Any) -> str | None:
    """`PodSecurity "<level>:<version>": <details>` of the mode's level, if it is broken."""
    level = labels.get(f"{_PREFIX}{mode}")
    if _rank(level) == 0 or not isinstance(spec, dict):
        return None
    label_version = str(labels.get(f"{_PREFIX}{mode}-version") or "latest")
    version = _parse_version(label_version)
    shown = label_version if version is not None else "latest"
    at = version or _LATEST
    failed = [found for check in _checks(str(level), at) if (found := check(meta, spec, at))]
    if not failed:
        return None
    details = ", ".join(f"{reason} ({detail})" if detail else reason for reason, detail in failed)
    return f'PodSecurity "{level}:{shown}": {details}'


def _parse_version(text: str) -> tuple[int, int] | None:
    """`v1.30` as (1, 30), newer than the checks' newest as it; None for `latest` or nonsense."""
    major, _, minor = text.removeprefix("v").partition(".")
    if not (text.startswith("v") and major == "1" and minor.isdigit()):
        return None
    return min((1, int(minor)), _LATEST)


_BASELINE: tuple[tuple[str, Check], ...] = (
    ("appArmorProfile", base.app_armor),
    ("capabilities_baseline", base.capabilities),
    ("hostNamespaces", base.host_namespaces),
    ("hostPathVolumes", base.host_path_volumes),
    ("hostPorts", base.host_ports),
    ("hostProbesAndHostLifecycle", base.host_probes),
    ("privileged", base.privileged),
    ("procMount", base.proc_mount),
    ("seLinuxOptions", base.se_linux),
    ("seccompProfile_baseline", base.seccomp),
    ("sysctls", base.sysctls),
    ("windowsHostProcess", base.host_process),
)
# The restricted level's own: since which release, and the baseline check each replaces.
_RESTRICTED: tuple[tuple[str, tuple[int, int], str | None, Check], ...] = (
    ("allowPrivilegeEscalation", (1, 8), None, restricted.privilege_escalation),
    (
        "capabilities_restricted",
        (1, 22),
        "capabilities_baseline",
        restricted.capabilities_restricted,
    ),
    ("procMount_restricted", (1, 35), "procMount", restricted.proc_mount_restricted),
    ("restrictedVolumes", (1, 0), "hostPathVolumes", restricted.restricted_volumes),
    ("runAsNonRoot", (1, 0), None, restricted.run_as_non_root),
    ("runAsUser", (1, 23), None, restricted.run_as_user),
    (
        "seccompProfile_restricted",
        (1, 19),
        "seccompProfile_baseline",
        restricted.seccomp_restricted,
    ),
)


def _checks(level: str, version: tuple[int, int]) -> list[Check]:
    """The checks of `level` at `version`, in the registry's order."""
    if level != "restricted":
        return [check for _, check in _BASELINE]
    own = [(replaced, check) for _, since, replaced, check in _RESTRICTED if version >= since]
    replaced = {r for r, _ in own if r is not None}
    return [check for id_, check in _BASELINE if id_ not in replaced] + [c for _, c in own]
