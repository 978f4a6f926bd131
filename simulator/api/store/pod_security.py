"""Pod Security admission (k8s.io/pod-security-admission v0.37): the levels a namespace's labels
enforce and warn of, and the order of the checks (pod_security_baseline.py and
pod_security_restricted.py port them from policy/check_*.go, with their words).

A namespace labelled `pod-security.kubernetes.io/enforce: baseline` (or `restricted`, of which
the baseline checks are a part) refuses a new pod that breaks one of the baseline checks:
`pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces
(hostNetwork=true), hostPort (container "c" uses hostPort 80)`, each failed check's reason and
detail, in the order of the checks' IDs. `pod-security.kubernetes.io/enforce-version` picks the
checks of a release (`v1.30`; `latest`, the default, is v1.37's); a value that does not parse
is `latest`. Namespaces without labels get the configuration's defaults: none for a plain
kube-apiserver (`KUBE_APISERVER`, the fake API's), `baseline` enforced and `restricted` warned
everywhere but kube-system on Talos (`TALOS`: what a scenario's Talos host enforces unless it
says `podSecurity: kube-apiserver`; the appliance's manifests are held to it by
tests/unit/bootstrap/test_manifests_pod_security.py). `admission_configuration()` is the same
configuration as kube-apiserver's `--admission-control-config-file` reads it, so that a real
control plane enforces what the fake API does.

The `restricted` level adds its own checks (replacing four baseline ones from the release each
came in). The warn mode answers `would violate PodSecurity ...` as a warning: for an admitted
Pod, and for a workload's pod template on every create and update (warn defaults to a stricter
enforce level). Not modelled: the audit mode (annotations of audit events), exemptions, a Pod
update's re-evaluation, a label that does not parse (refused, or its default), and seccomp's
pre-1.19 annotations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.api.store import pod_security_baseline as base
from simulator.api.store import pod_security_restricted as restricted

__all__ = [
    "CONFIGS",
    "KUBE_APISERVER",
    "TALOS",
    "PodSecurityConfig",
    "pod_security_refusal",
    "pod_security_warning",
]

Obj = dict[str, Any]
Check = Callable[[Obj, Obj, tuple[int, int]], tuple[str, str] | None]
_PREFIX = "pod-security.kubernetes.io/"
_LATEST = (1, 37)


@dataclass(frozen=True)
class PodSecurityConfig:
    """The plugin's configuration (PodSecurityConfiguration): the levels a namespace without
    labels gets (`enforce`, `warn`, with their `-version`s), and the namespaces it leaves alone."""

    defaults: Mapping[str, str] = field(default_factory=dict)
    exempt_namespaces: frozenset[str] = frozenset()

    def admission_configuration(self) -> dict[str, Any]:
        """kube-apiserver's AdmissionConfiguration holding this one (PodSecurityConfiguration
        v1, which Talos's machine configuration writes as v1alpha1: the same fields)."""
        security = {
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": dict(self.defaults),
            "exemptions": {
                "usernames": [],
                "runtimeClasses": [],
                "namespaces": sorted(self.exempt_namespaces),
            },
        }
        return {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "AdmissionConfiguration",
            "plugins": [{"name": "PodSecurity", "configuration": security}],
        }


# kube-apiserver's own: every level privileged, so only labels enforce or warn.
KUBE_APISERVER = PodSecurityConfig()
# Talos's default machine configuration (its Pod Security guide, v1.5 to v1.11 alike).
TALOS = PodSecurityConfig(
    defaults={
        "enforce": "baseline",
        "enforce-version": "latest",
        "audit": "restricted",
        "audit-version": "latest",
        "warn": "restricted",
        "warn-version": "latest",
    },
    exempt_namespaces=frozenset({"kube-system"}),
)
# By the names a scenario's `host.podSecurity` and `appliance-sim control-plane --pod-security`
# give them.
CONFIGS: Mapping[str, PodSecurityConfig] = {"kube-apiserver": KUBE_APISERVER, "talos": TALOS}


def pod_security_refusal(
    namespace: Obj | None, pod: Obj, config: PodSecurityConfig = KUBE_APISERVER
) -> str | None:
    """`violates PodSecurity "baseline:latest": ...` when the namespace's enforce level refuses
    `pod` (as admitted so far), else None."""
    policy = _policy(namespace, config)
    meta, spec = pod.get("metadata") or {}, pod.get("spec")
    found = _evaluate(policy, "enforce", meta, spec) if policy is not None else None
    return f"violates {found}" if found else None


def pod_security_warning(
    namespace: Obj | None, obj: Obj, config: PodSecurityConfig = KUBE_APISERVER
) -> str | None:
    """`would violate PodSecurity "restricted:latest": ...` for an admitted Pod, or a workload's
    pod template, that breaks the namespace's warn level, else None."""
    template, policy = _template(obj), _policy(namespace, config)
    if template is None or policy is None:
        return None
    found = _evaluate(policy, "warn", template.get("metadata") or {}, template.get("spec"))
    return f"would violate {found}" if found else None


def _policy(namespace: Obj | None, config: PodSecurityConfig) -> dict[str, str] | None:
    """The namespace's levels as `<mode>[-version]` keys (api.PolicyToEvaluate: the defaults,
    then the labels; warn takes an enforce label's level when no warn label says otherwise and
    it is the stricter), or None for an exempt namespace."""
    meta = (namespace or {}).get("metadata") or {}
    if meta.get("name") in config.exempt_namespaces:
        return None
    labels = meta.get("labels")
    labels = labels if isinstance(labels, dict) else {}
    given = {k.removeprefix(_PREFIX): str(v) for k, v in labels.items() if k.startswith(_PREFIX)}
    policy = {**config.defaults, **given}
    stricter = "enforce" in given and _rank(policy["enforce"]) > _rank(policy.get("warn"))
    if "warn" not in given and stricter:
        policy["warn"] = policy["enforce"]
        if "warn-version" not in given:
            policy["warn-version"] = policy.get("enforce-version", "latest")
    return policy


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


def _evaluate(policy: dict[str, str], mode: str, meta: Obj, spec: Any) -> str | None:
    """`PodSecurity "<level>:<version>": <details>` of the mode's level, if it is broken."""
    level = policy.get(mode)
    if _rank(level) == 0 or not isinstance(spec, dict):
        return None
    label_version = str(policy.get(f"{mode}-version") or "latest")
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
