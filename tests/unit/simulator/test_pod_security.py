"""Pod Security admission's baseline checks (simulator/api/store/pod_security.py), on the words
of k8s.io/pod-security-admission's own tests; the real control plane judges many more in
tests/integration/test_fake_api_vs_apiserver_pod_security.py."""

from __future__ import annotations

from typing import Any

from simulator.api.store.pod_security import pod_security_refusal, pod_security_warning


def _namespace(**labels: str) -> dict[str, Any]:
    return {"metadata": {"name": "ns", "labels": labels}}


_BASELINE = _namespace(**{"pod-security.kubernetes.io/enforce": "baseline"})
_PRIVILEGED_POD = {
    "metadata": {"name": "p"},
    "spec": {
        "hostNetwork": True,
        "containers": [
            {"name": "a", "securityContext": {"privileged": True}},
            {"name": "b", "securityContext": {"privileged": True}},
        ],
    },
}


def test_a_namespace_without_the_label_enforces_nothing() -> None:
    assert pod_security_refusal(_namespace(), _PRIVILEGED_POD) is None
    assert pod_security_refusal(None, _PRIVILEGED_POD) is None
    privileged = _namespace(**{"pod-security.kubernetes.io/enforce": "privileged"})
    assert pod_security_refusal(privileged, _PRIVILEGED_POD) is None


def test_each_failed_check_is_said_in_the_order_of_the_check_ids() -> None:
    assert pod_security_refusal(_BASELINE, _PRIVILEGED_POD) == (
        'violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), '
        'privileged (containers "a", "b" must not set securityContext.privileged=true)'
    )


def test_the_version_label_picks_that_releases_checks() -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {
            "securityContext": {"sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "1 2 3"}]},
            "containers": [{"name": "c"}],
        },
    }
    assert pod_security_refusal(_BASELINE, pod) is None  # allowed since v1.32
    at_130 = _namespace(
        **{
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "v1.30",
        }
    )
    assert pod_security_refusal(at_130, pod) == (
        'violates PodSecurity "baseline:v1.30": forbidden sysctls (net.ipv4.tcp_rmem)'
    )


def test_a_workload_is_warned_of_at_the_warn_level_and_never_refused() -> None:
    """Talos's default: baseline enforced, restricted warned. A Deployment's pod template is
    only ever warned about (the pods it makes are what enforcement refuses)."""
    talos = _namespace(
        **{
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
        }
    )
    deployment = {
        "kind": "Deployment",
        "spec": {"template": {"spec": {"containers": [{"name": "web"}]}}},
    }
    assert pod_security_warning(talos, deployment) == (
        'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
        '(container "web" must set securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "web" must set '
        'securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "web" must set securityContext.seccompProfile.type to '
        '"RuntimeDefault" or "Localhost")'
    )
    # Without a warn label, the enforce level is the warn level.
    assert pod_security_warning(_BASELINE, deployment) is None
    assert pod_security_refusal(talos, deployment) is None
