"""The Flux CRDs `flux install` applies, built from the kind table (`simulator.api.kinds`).

Minimal but valid: schemas preserve unknown fields (the simulator is not Flux's validator);
names, groups, served and storage versions, scope, short names, status subresource and printer
columns match Flux 2.4, so kubectl and the production code address them as on an appliance.
"""

from __future__ import annotations

from typing import Any

from simulator.api.kind_table import FLUX_KINDS
from simulator.api.kinds import CustomKind

__all__ = ["FLUX_CRDS", "FLUX_VERSION", "flux_crd"]

FLUX_VERSION = "v2.4.0"

_SCHEMA = {
    "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
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


def flux_crd(custom: CustomKind) -> dict[str, Any]:
    """The CustomResourceDefinition of one Flux kind (its storage version served first)."""
    info = custom.info
    versions = (info.version, *custom.older_versions)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": info.crd_name,
            "labels": {
                "app.kubernetes.io/component": info.group.partition(".")[0] + "-controller",
                "app.kubernetes.io/instance": "flux-system",
                "app.kubernetes.io/part-of": "flux",
                "app.kubernetes.io/version": FLUX_VERSION,
            },
        },
        "spec": {
            "group": info.group,
            "names": {
                "kind": info.kind,
                "listKind": info.list_kind_name,
                "plural": info.plural,
                "singular": info.singular_name,
                "shortNames": list(info.short_names),
            },
            "scope": "Namespaced" if info.namespaced else "Cluster",
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": version == info.version,
                    "subresources": {"status": {}},
                    "schema": _SCHEMA,
                    "additionalPrinterColumns": _READY_COLUMNS,
                }
                for version in versions
            ],
        },
    }


FLUX_CRDS: tuple[dict[str, Any], ...] = tuple(flux_crd(custom) for custom in FLUX_KINDS)
