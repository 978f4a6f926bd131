"""kustomize-controller's apply of what a Kustomization built, as fluxcd/pkg/ssa's
ApplyAllStaged does it: in stages (CRDs, Namespaces and ClusterRoles; then `*Class` kinds;
then the rest), each stage in Flux's apply order, every object of a stage dry-run before any of
it is applied, so that one the API refuses stops the stage with nothing of it applied (what an
earlier stage applied stays). Each object is labelled as its Kustomization's and applied
server-side, with the controller's field manager and forced ownership (a field the manifests no
longer set is taken away), as a client of the API: the API server's rules and a custom
resource's schema hold. The change set's lines (`Kind/namespace/name created` or `configured`;
an unchanged object has none) go in the controller's event; a refusal's message is the
controller's error: the refused object's DryRunErr, then the lines of what changed before it."""

from __future__ import annotations

from typing import Any, NoReturn

from simulator.api.store.errors import NotFoundError, StoreError
from simulator.errors import SimulatorError
from simulator.world.flux_inventory import apply_order, apply_stage, change_subject
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
    for doc in docs:
        doc.setdefault("metadata", {}).setdefault("labels", {}).update(
            {
                "kustomize.toolkit.fluxcd.io/name": kustomization[1],
                "kustomize.toolkit.fluxcd.io/namespace": kustomization[0],
            }
        )
    applied: list[Obj] = []
    lines: list[str] = []
    for stage in sorted({apply_stage(doc) for doc in docs}):
        in_stage = sorted((d for d in docs if apply_stage(d) == stage), key=apply_order)
        for doc in in_stage:  # every dry run first: a refused object stops the whole stage
            _apply(objects, doc, dry_run=True, done=lines)
        for doc in in_stage:
            before = objects.get(*_where(doc))
            stored = _apply(objects, doc, dry_run=False, done=lines)
            if before is None:
                lines.append(f"{change_subject(stored)} created")
            elif meta(before).get("resourceVersion") != meta(stored).get("resourceVersion"):
                lines.append(f"{change_subject(stored)} configured")
            applied.append(stored)
    return applied, lines


def _where(doc: Obj) -> tuple[str, str, str, str | None]:
    api_version, kind, namespace, name = obj_key(doc)
    return api_version, kind, name, namespace or None


def _apply(objects: Objects, doc: Obj, *, dry_run: bool, done: list[str]) -> Obj:
    """fluxcd/pkg/ssa's server-side apply of one object (or its dry run), forcing ownership;
    a refusal is the controller's error, `done` (what changed before it) after it."""
    api_version, kind, name, namespace = _where(doc)
    subject = change_subject(doc)
    try:
        objects.store.kind_info(api_version, kind)
    except NotFoundError:  # the REST mapper knows no such kind (no CRD for it yet)
        unknown = f'no matches for kind "{kind}" in version "{api_version}"'
        _refuse(f"{subject} dry-run failed: {unknown}", done)
    try:
        return objects.store.patch(
            api_version,
            kind,
            name,
            doc,
            "apply",
            namespace=namespace,
            field_manager=FIELD_MANAGER,
            force=True,
            strict=True,
            dry_run=dry_run,
        )
    except StoreError as exc:
        _refuse(_refusal(subject, exc, dry_run=dry_run, namespaced=bool(namespace)), done)
    except Exception as exc:  # the world's own failure: said as a refusal, not a crash
        _refuse(f"{subject} {'dry-run' if dry_run else 'apply'} failed: {exc}", done)


def _refuse(refusal: str, done: list[str]) -> NoReturn:
    # kustomize-controller: fmt.Errorf("%w\n%s", err, changeSetLog), each line ending in \n.
    raise ApplyRejected(refusal + "\n" + "".join(f"{line}\n" for line in done))


def _refusal(subject: str, exc: StoreError, *, dry_run: bool, namespaced: bool) -> str:
    """ssaerrors.DryRunErr's words for a refused dry run (an apply's: `... apply failed:`)."""
    if not dry_run:
        return f"{subject} apply failed: {exc.message}"
    if isinstance(exc, NotFoundError):
        where = "not found" if namespaced else "namespace not specified"
        return f"{subject} {where}: {exc.message}"
    reason = f" ({exc.reason})" if exc.reason else ""  # an error that is no Status: none
    return f"{subject} dry-run failed{reason}: {exc.message}"
