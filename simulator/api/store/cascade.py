"""What goes with a deleted object: a namespace's contents, a CRD's custom resources."""

from __future__ import annotations

from typing import Any

from simulator.api.kinds import KindInfo, KindRegistry

__all__ = ["Buckets", "dependents"]

Obj = dict[str, Any]
# (group, plural) -> {(namespace, name): object}, as the store keeps them.
Buckets = dict[tuple[str, str], dict[tuple[str, str], Obj]]


def dependents(
    registry: KindRegistry, buckets: Buckets, info: KindInfo, obj: Obj
) -> list[tuple[KindInfo, Obj]]:
    """The stored objects to remove now that `obj` (of kind `info`) is deleted."""
    victims: list[tuple[KindInfo, Obj]] = []
    if info.group == "" and info.plural == "namespaces":
        ns = obj["metadata"]["name"]
        for kind in registry.all():
            if kind.namespaced:
                bucket = buckets.get((kind.group, kind.plural), {})
                victims.extend((kind, o) for (ons, _), o in list(bucket.items()) if ons == ns)
    elif info.plural == "customresourcedefinitions":
        spec = obj.get("spec") or {}
        group, plural = spec.get("group"), (spec.get("names") or {}).get("plural")
        bucket = buckets.get((str(group), str(plural)), {})
        versions = spec.get("versions") or [{"name": "v1"}]
        fake = KindInfo(
            group=str(group),
            version=str(versions[0].get("name")),
            kind=str((spec.get("names") or {}).get("kind", "")),
            plural=str(plural),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        )
        victims.extend((fake, o) for o in list(bucket.values()))
    return victims
