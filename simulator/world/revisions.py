"""Rollout revisions, as the deployment and statefulset controllers keep them.

A Deployment's ReplicaSets carry `deployment.kubernetes.io/revision`; the newest template gets the
next number, and rolling back to an older template reuses its ReplicaSet under a new number
(the old one kept in `revision-history`), so `kubectl rollout history` and `rollout undo` work.
A StatefulSet keeps ControllerRevisions of its template.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from simulator.world.objects import meta

__all__ = [
    "REVISION",
    "controller_revision",
    "latest",
    "revision_of",
    "same_template",
    "with_revision",
]

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
_HISTORY = "deployment.kubernetes.io/revision-history"
_HASH = "pod-template-hash"


def revision_of(obj: Obj) -> int:
    """The revision number an object carries (0 when none)."""
    text = str((meta(obj).get("annotations") or {}).get(REVISION, "0"))
    return int(text) if text.isdigit() else 0


def latest(objects: Iterable[Obj]) -> int:
    """The highest revision among `objects`."""
    return max((revision_of(o) for o in objects), default=0)


def _without_hash(template: Any) -> Any:
    template = copy.deepcopy(template or {})
    (template.get("metadata") or {}).get("labels", {}).pop(_HASH, None)
    return template


def same_template(replica_set: Obj, template: Any) -> bool:
    """Whether the ReplicaSet runs `template` (its pod-template-hash label aside)."""
    return bool(
        _without_hash((replica_set.get("spec") or {}).get("template")) == _without_hash(template)
    )


def with_revision(annotations: dict[str, str], revision: int) -> dict[str, str]:
    """Annotations moved to `revision`, remembering the number they had before."""
    out = dict(annotations)
    previous = out.get(REVISION)
    if previous and previous != str(revision):
        history = [h for h in out.get(_HISTORY, "").split(",") if h]
        out[_HISTORY] = ",".join([*history, previous])
    out[REVISION] = str(revision)
    return out


def controller_revision(owner: Obj, owner_ref: Obj, name: str, revision: int) -> Obj:
    """The apps/v1 ControllerRevision of a StatefulSet's current template."""
    m = meta(owner)
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": name,
            "namespace": m.get("namespace"),
            "labels": dict(
                (((owner.get("spec") or {}).get("selector") or {}).get("matchLabels")) or {}
            )
            | {"controller.kubernetes.io/hash": name.rsplit("-", 1)[-1]},
            "ownerReferences": [owner_ref],
        },
        "data": {
            "spec": {"template": copy.deepcopy((owner.get("spec") or {}).get("template") or {})}
        },
        "revision": revision,
    }
