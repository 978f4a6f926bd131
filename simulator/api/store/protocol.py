"""`Store`: what the world engine and the neighbours need of a cluster's objects.

Two implementations: `ObjectStore` (in memory, behind the fake API) and
`simulator.replay.remote.RemoteStore` (any cluster a kubeconfig reaches). Both are lenient
where a real server is strict about who may write what: status given to `create` is kept, a
missing namespace is created.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from simulator.api.kinds import KindInfo
from simulator.api.store.containers import ContainerLogs, ExecHandlers
from simulator.api.store.events import EventRecorder
from simulator.api.store.subscriptions import Subscriptions
from simulator.clock import VirtualClock

__all__ = ["WORLD_MANAGER", "PatchType", "Store"]

PatchType = Literal["json", "merge", "strategic", "apply"]
# The field manager of the world's own writes (controllers, kubelet, Flux model) when it updates
# an object some client manages: it owns what it changes there, as the controllers it stands
# for would. Objects the world creates are not tracked until something applies them.
WORLD_MANAGER = "appliance-sim"
Obj = dict[str, Any]


class Store(Protocol):
    """Objects by apiVersion and Kind (or plural), with their side channels as parts."""

    clock: VirtualClock
    # Who hears of each change (the world engine, the fake API's watches, our processes).
    changes: Subscriptions
    events: EventRecorder
    logs: ContainerLogs
    execs: ExecHandlers

    def kind_info(self, api_version: str, kind: str) -> KindInfo:
        """The served kind for `api_version` and Kind or plural; NotFoundError when unknown."""
        ...

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> Obj | None:
        """A copy of the object, or None when absent."""
        ...

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        """Copies of the matching objects, ordered by namespace then name."""
        ...

    def create(
        self,
        obj: Obj,
        *,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
        copy: bool = True,
        admitted: bool = False,
    ) -> Obj:
        """Store a new object; AlreadyExistsError when its name is taken. `admitted`: a pod
        a controller creates, which admission may refuse (ForbiddenError) as the API's."""
        ...

    def replace(
        self,
        obj: Obj,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
    ) -> Obj:
        """Replace an existing object (PUT); ConflictError on a stale resourceVersion."""
        ...

    def patch(  # noqa: PLR0917 - positional order is the published interface
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        patch_type: PatchType = "merge",
        namespace: str | None = None,
        subresource: str | None = None,
        *,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
        force: bool = False,
    ) -> Obj:
        """Apply a json/merge/strategic/apply patch."""
        ...

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        grace_period: int | None = None,
    ) -> Obj:
        """Delete (or, with finalizers or a pod's grace period, mark for deletion); NotFoundError.

        `grace_period` 0 removes a Terminating pod now (its kubelet confirming it stopped)."""
        ...
