"""kube-apiserver v1.37's health endpoints: `/livez`, `/readyz` and `/healthz` with their checks,
as `kubectl get --raw '/readyz?verbose'` shows them (k8s.io/apiserver pkg/server/healthz).

The fake API is healthy whenever it answers, so every check passes: `ok`, or with `verbose` one
`[+]<check> ok` line each, a check named in `exclude` as `excluded: ok`, a warning for excluded
names no check has, and `<endpoint> check passed`. `/livez/<check>` answers `ok` for a check the
endpoint has. The check lists are a real v1.37.2 control plane's (recorded, in its order).
"""

from __future__ import annotations

import json

__all__ = ["health_answer"]

# /livez's checks, as kube-apiserver v1.37.2 lists them; /healthz has the same.
_LIVEZ = (
    "ping",
    "log",
    "loopback-serving-certificate",
    "etcd",
    "poststarthook/start-apiserver-admission-initializer",
    "poststarthook/generic-apiserver-start-informers",
    "poststarthook/priority-and-fairness-config-consumer",
    "poststarthook/priority-and-fairness-filter",
    "poststarthook/storage-object-count-tracker-hook",
    "poststarthook/start-apiextensions-informers",
    "poststarthook/start-apiextensions-controllers",
    "poststarthook/crd-informer-synced",
    "poststarthook/start-system-namespaces-controller",
    "poststarthook/peer-endpoint-reconciler-controller",
    "poststarthook/start-cluster-authentication-info-controller",
    "poststarthook/start-kube-apiserver-identity-lease-controller",
    "poststarthook/start-kube-apiserver-identity-lease-garbage-collector",
    "poststarthook/storage-readiness",
    "poststarthook/start-legacy-token-tracking-controller",
    "poststarthook/start-service-ip-repair-controllers",
    "poststarthook/rbac/bootstrap-roles",
    "poststarthook/scheduling/bootstrap-system-priority-classes",
    "poststarthook/priority-and-fairness-config-producer",
    "poststarthook/bootstrap-controller",
    "poststarthook/start-kubernetes-service-cidr-controller",
    "poststarthook/start-kube-aggregator-informers",
    "poststarthook/apiservice-status-local-available-controller",
    "poststarthook/apiservice-status-remote-available-controller",
    "poststarthook/apiservice-registration-controller",
    "poststarthook/apiservice-discovery-controller",
    "poststarthook/kube-apiserver-autoregistration",
    "autoregister-completion",
    "poststarthook/apiservice-openapi-controller",
    "poststarthook/apiservice-openapiv3-controller",
)
# /readyz: not the loopback certificate's check; etcd's readiness and the informers' sync
# after etcd, and shutdown last.
_READYZ = ("ping", "log", "etcd", "etcd-readiness", "informer-sync", *_LIVEZ[4:], "shutdown")
_ENDPOINTS = {"/livez": _LIVEZ, "/healthz": _LIVEZ, "/readyz": _READYZ}


def health_answer(path: str, query: dict[str, list[str]]) -> bytes | None:
    """The body of a health endpoint's or one of its checks' answer; None when `path` is
    neither (a 404, as for any unknown path)."""
    for endpoint, checks in _ENDPOINTS.items():
        if path == endpoint:
            return _root(endpoint[1:], checks, query)
        if path.startswith(endpoint + "/"):
            return b"ok" if path[len(endpoint) + 1 :] in checks else None
    return None


def _root(name: str, checks: tuple[str, ...], query: dict[str, list[str]]) -> bytes:
    """handleRootHealth when every check passes."""
    if "verbose" not in query:
        return b"ok"
    excluded = set(query.get("exclude") or [])
    lines = [f"[+]{c} excluded: ok" if c in excluded else f"[+]{c} ok" for c in checks]
    if unknown := sorted(excluded - set(checks)):
        names = ",".join(json.dumps(n) for n in unknown)  # Go's %q of each, joined
        lines.append(f"warn: some health checks cannot be excluded: no matches for {names}")
    lines.append(f"{name} check passed")
    return ("\n".join(lines) + "\n").encode()
