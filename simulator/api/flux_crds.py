"""The three Flux CRDs the appliance uses, minimal but valid, for the world to install.

Schemas preserve unknown fields (the simulator is not Flux's validator); the names, groups,
versions, scopes, short names and status subresources match the real CRDs, so kubectl and the
production code address them exactly as on a real appliance.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FLUX_CRDS", "flux_crd"]

_SCHEMA = {
    "openAPIV3Schema": {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
}

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
    group: str, kind: str, plural: str, versions: tuple[str, ...], short_names: tuple[str, ...]
) -> dict[str, Any]:
    """A CustomResourceDefinition manifest; the last version is the storage version."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            "labels": {"app.kubernetes.io/part-of": "flux"},
        },
        "spec": {
            "group": group,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": list(short_names),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": v,
                    "served": True,
                    "storage": v == versions[-1],
                    "schema": _SCHEMA,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": _READY_COLUMNS,
                }
                for v in versions
            ],
        },
    }


FLUX_CRDS: tuple[dict[str, Any], ...] = (
    flux_crd("source.toolkit.fluxcd.io", "GitRepository", "gitrepositories", ("v1",), ("gitrepo",)),
    flux_crd("kustomize.toolkit.fluxcd.io", "Kustomization", "kustomizations", ("v1",), ("ks",)),
    flux_crd("helm.toolkit.fluxcd.io", "HelmRelease", "helmreleases", ("v2",), ("hr",)),
)
