"""kustomize-controller's apply of what a Kustomization built, as far as the world needs: each
object labelled as its Kustomization's and applied in turn, and the change set's lines the
controller puts in an event when something changed (`Kind/namespace/name created` or
`configured`, fluxcd/pkg/ssa's ChangeSetEntry, in Flux's apply order; an unchanged object
has no line). Each object is applied server-side, as fluxcd/pkg/ssa does, with the controller's
field manager and forced ownership: a field the manifests no longer set is taken away."""

from __future__ import annotations

from typing import Any

from simulator.api.store.errors import NotFoundError
from simulator.errors import SimulatorError
from simulator.world.flux_inventory import apply_order, change_subject
from simulator.world.objects import Objects, meta, obj_key

__all__ = ["FIELD_MANAGER", "ApplyRejected", "apply_objects"]

Obj = dict[str, Any]
# The field manager of kustomize-controller's applies (ssa.Owner.Field, its controller name).
FIELD_MANAGER = "kustomize-controller"


class ApplyRejected(SimulatorError):
    """The API refused an object: the apply stops there, as kustomize-controller's does."""


def apply_objects(
    objects: Objects, kustomization: tuple[str, str], docs: list[Obj]
) -> tuple[list[Obj], list[str]]:
    """Apply `docs` for the Kustomization (namespace, name); the objects as stored, and the
    change set's lines of those that changed."""
    applied: list[Obj] = []
    changed: dict[int, str] = {}
    for doc in docs:
        dm = doc.setdefault("metadata", {})
        dm.setdefault("labels", {}).update(
            {
                "kustomize.toolkit.fluxcd.io/name": kustomization[1],
                "kustomize.toolkit.fluxcd.io/namespace": kustomization[0],
            }
        )
        api_version, kind, namespace, name = obj_key(doc)
        ref = f"{kind}/{namespace or ''}/{name}"
        try:
            objects.store.kind_info(api_version, kind)
        except NotFoundError as exc:  # the REST mapper knows no such kind (no CRD for it yet)
            unknown = f'no matches for kind "{kind}" in version "{api_version}"'
            raise ApplyRejected(f"{ref} dry-run failed: {unknown}") from exc
        before = objects.get(api_version, kind, name, namespace)
        try:  # fluxcd/pkg/ssa: a server-side apply, forcing ownership, as the controller
            stored = objects.store.patch(
                api_version,
                kind,
                name,
                doc,
                "apply",
                namespace=namespace or None,
                field_manager=FIELD_MANAGER,
                force=True,
            )
        except Exception as exc:  # a rejected object fails the apply like kustomize-controller
            raise ApplyRejected(f"{ref} dry-run failed: {exc}") from exc
        if before is None:
            changed[id(stored)] = "created"
        elif meta(before).get("resourceVersion") != meta(stored).get("resourceVersion"):
            changed[id(stored)] = "configured"
        applied.append(stored)
    lines = [
        f"{change_subject(obj)} {changed[id(obj)]}"
        for obj in sorted(applied, key=apply_order)
        if id(obj) in changed
    ]
    return applied, lines
