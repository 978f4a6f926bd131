"""A Kustomization's `dependsOn`, checked as kustomize-controller v1.9.6's checkDependencies
does (CEL `readyExpr` aside): each dependency must exist, have observed its generation, be
Ready, and, when it reads the same source, have applied the revision this one would apply."""

from __future__ import annotations

from typing import Any

from simulator.api.kind_table import api_version_of
from simulator.world.objects import Objects, condition, meta

__all__ = ["dependency_problem"]

Obj = dict[str, Any]
_KUSTOMIZE_API = api_version_of("Kustomization")


def dependency_problem(objects: Objects, kust: Obj, revision: str) -> str | None:
    """Why `kust`'s dependencies are not ready yet, in the controller's words (None: they are)."""
    own_ns = str(meta(kust).get("namespace"))
    own_source = (kust.get("spec") or {}).get("sourceRef") or {}
    for dep in (kust.get("spec") or {}).get("dependsOn") or []:
        dep_ns = dep.get("namespace") or own_ns
        named = f"{dep_ns}/{dep['name']}"
        other = objects.get(_KUSTOMIZE_API, "Kustomization", dep["name"], dep_ns)
        if other is None:  # the API reader's NotFound
            return (
                f"dependency '{named}' not found: "
                f'kustomizations.kustomize.toolkit.fluxcd.io "{dep["name"]}" not found'
            )
        status = other.get("status") or {}
        if (
            not status.get("conditions")
            or meta(other).get("generation") != status.get("observedGeneration")
            or (condition(other, "Ready") or {}).get("status") != "True"
        ):
            return f"dependency '{named}' is not ready"
        other_source = (other.get("spec") or {}).get("sourceRef") or {}
        same_source = (
            other_source.get("name") == own_source.get("name")
            and (other_source.get("namespace") or dep_ns) == (own_source.get("namespace") or own_ns)
            and other_source.get("kind") == own_source.get("kind")
        )
        if same_source and status.get("lastAppliedRevision") != revision:
            return f"dependency '{named}' revision is not up to date"
    return None
