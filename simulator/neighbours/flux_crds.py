"""The Flux CRDs `flux install` applies, built from the kind table's Flux rows
(`simulator.api.flux_kind_rows`), and the paths the fake `flux` asks the API server for.

Minimal but valid: schemas preserve unknown fields (the simulator is not Flux's validator) and
declare the defaults Flux's own do; names, groups, served and storage versions, scope, short
names, status subresource and printer columns match Flux 2.4, so kubectl and the production code
address them as on an appliance.
Free of the kind table itself (dataclasses, every built-in kind): the fake `flux` imports this
module on every run, a process per command.
"""

from __future__ import annotations

from simulator.api.flux_kind_rows import FLUX_KIND_ROWS

TYPE_CHECKING = False  # typing only for mypy, which reads this as true
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FLUX_CRDS", "FLUX_VERSION", "flux_crd", "flux_path", "resource_path"]

FLUX_VERSION = "v2.4.0"


def _fields(**properties: Any) -> dict[str, Any]:
    """An object that keeps unknown fields, with these properties declared."""
    return {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": properties,
    }


def _default(value: object) -> dict[str, Any]:
    kinds = {bool: "boolean", str: "string", dict: "object"}
    schema = {"type": kinds[type(value)], "default": value}
    if isinstance(value, dict):  # status: {observedGeneration: -1}
        schema["x-kubernetes-preserve-unknown-fields"] = True
    return schema


_OBSERVED_NONE = {"status": _default({"observedGeneration": -1})}
# The defaults Flux's own CRDs declare (source-controller and kustomize-controller v1.9.6,
# helm-controller v1.6.1, config/crd/bases; the same in Flux 2.4's): kube-apiserver fills them in
# every object of the kind (simulator/api/store/schema_defaults.py), so a GitRepository reads
# back with `timeout: 60s` and a new object with `status: {observedGeneration: -1}`, as on an
# appliance. Everything else in a schema keeps unknown fields (the simulator is not Flux's
# validator); notification-controller's kinds declare none here.
_VERIFY_COSIGN = _fields(provider=_default("cosign"))
_CHART = {
    "reconcileStrategy": _default("ChartVersion"),
    "verify": _VERIFY_COSIGN,
    "version": _default("*"),
}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "Bucket": {"spec": _fields(provider=_default("generic"), timeout=_default("60s"))},
    "GitRepository": {
        "spec": _fields(timeout=_default("60s"), verify=_fields(mode=_default("HEAD")))
    },
    "HelmChart": {"spec": _fields(**_CHART)},
    "HelmRepository": {"spec": _fields(provider=_default("generic"))},
    "OCIRepository": {
        "spec": _fields(
            provider=_default("generic"), timeout=_default("60s"), verify=_VERIFY_COSIGN
        )
    },
    "Kustomization": {
        "spec": _fields(
            force=_default(False),
            postBuild=_fields(
                substituteFrom={"type": "array", "items": _fields(optional=_default(False))}
            ),
        )
    },
    "HelmRelease": {
        "spec": _fields(
            chart=_fields(spec=_fields(**_CHART)),
            uninstall=_fields(deletionPropagation=_default("background")),
        )
    },
}


def _schema(kind: str) -> dict[str, Any]:
    declared = _DEFAULTS.get(kind)
    if declared is None:
        return {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {"openAPIV3Schema": _fields(**declared, **_OBSERVED_NONE)}


_READY_COLUMNS = [
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    },
    {
        "name": "Status",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].message',
    },
]


def flux_crd(
    group: str, kind: str, plural: str, short: tuple[str, ...], versions: tuple[str, ...]
) -> dict[str, Any]:
    """The CustomResourceDefinition of one Flux kind (its storage version served first)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            "labels": {
                "app.kubernetes.io/component": group.partition(".")[0] + "-controller",
                "app.kubernetes.io/instance": "flux-system",
                "app.kubernetes.io/part-of": "flux",
                "app.kubernetes.io/version": FLUX_VERSION,
            },
        },
        "spec": {
            "group": group,
            # Kubernetes' defaults, as the kind table's KindInfo derives them.
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": list(short),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": version == versions[0],
                    "subresources": {"status": {}},
                    "schema": _schema(kind),
                    "additionalPrinterColumns": _READY_COLUMNS,
                }
                for version in versions
            ],
        },
    }


FLUX_CRDS: tuple[dict[str, Any], ...] = tuple(flux_crd(*row) for row in FLUX_KIND_ROWS)
_FLUX_KINDS = {
    kind: (group, versions[0], plural) for group, kind, plural, _, versions in FLUX_KIND_ROWS
}


def resource_path(
    api_version: str, kind: str, namespace: str | None = None, name: str | None = None
) -> str:
    """The collection or object path of a kind (`/apis/apps/v1/namespaces/ns/deployments/x`):
    a Flux kind's plural from its row, a built-in's as client-go guesses it from the kind
    (meta.UnsafeGuessKindToResource; right for every built-in `flux install` applies)."""
    plural = _FLUX_KINDS[kind][2] if kind in _FLUX_KINDS else _guess_plural(kind.lower())
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespace:
        base += f"/namespaces/{namespace}"
    return f"{base}/{plural}/{name}" if name else f"{base}/{plural}"


def flux_path(kind: str, namespace: str, name: str) -> str:
    """The path of a Flux object (`HelmRelease`, `GitRepository`, ...) at its storage version."""
    group, version, _ = _FLUX_KINDS[kind]
    return resource_path(f"{group}/{version}", kind, namespace, name)


def _guess_plural(singular: str) -> str:
    if singular.endswith("s"):
        return singular + "es"
    if singular.endswith("y"):
        return singular[:-1] + "ies"
    return singular + "s"
