"""What goes with a deleted object: a namespace's contents, a CRD's custom resources."""

from __future__ import annotations

from typing import Any

from simulator.api.kind_registry import KindRegistry
from simulator.api.kinds import KindInfo
from simulator.api.store.buckets import Buckets

__all__ = ["dependents"]

Obj = dict[str, Any]


def dependents(
    registry: KindRegistry, buckets: Buckets, info: KindInfo, obj: Obj
) -> list[tuple[KindInfo, Obj]]:
    """The stored objects to remove now that `obj` (of kind `info`) is deleted."""
    if info.group == "" and info.plural == "namespaces":
        return buckets.content(registry, obj["metadata"]["name"])
    if info.plural != "customresourcedefinitions":
        return []
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    group, plural = str(spec.get("group")), str(names.get("plural"))
    versions = spec.get("versions") or [{"name": "v1"}]
    fake = KindInfo(
        group=group,
        version=str(versions[0].get("name")),
        kind=str(names.get("kind", "")),
        plural=plural,
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
    )
    return [(fake, o) for o in list(buckets.of_resource(group, plural).values())]
