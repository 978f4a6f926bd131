"""Views of a live cluster's objects, kept while their raw object is the very same one.

The watch cache hands out the same dict for an object until a watch line replaces it, and the
status service evaluates its snapshot at every change and every few seconds of cluster time (in
a warped world at every jump: a few hundred times an install). A pod's or a workload's view is a
pure function of its raw object, and building every one again was a third of an evaluation (a
pod's twice: the previous-log scan reads the pods too). So live evaluations look a view up by
its raw object's identity first. An entry holds the raw object itself, so its id cannot be
reused by another object while the entry lives; each live evaluation then keeps only the views
of its own snapshot's objects (`retain`), so a long-running service holds no replaced versions
of its pods, and the newest `keep` entries at most. A dump is read once, its objects never seen
again: dump evaluations build their views directly.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from appliance.snapshot import RawObject
from appliance.views import PodView, WorkloadView, pod_view, workload_view

__all__ = ["LIVE_VIEWS", "ViewMemo"]


class ViewMemo:
    """Pod and workload views by raw object identity (thread-safe, the newest `keep` kept)."""

    def __init__(self, keep: int = 2048) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._views: OrderedDict[tuple[int, str], tuple[RawObject, Any]] = OrderedDict()

    def pod(self, raw: RawObject) -> PodView | None:
        """`pod_view(raw)`, built once per raw object."""
        view: PodView | None = self._view(raw, "Pod", pod_view)
        return view

    def workload(self, raw: RawObject, kind: str) -> WorkloadView | None:
        """`workload_view(raw, kind)`, built once per raw object."""
        view: WorkloadView | None = self._view(raw, kind, lambda obj: workload_view(obj, kind))
        return view

    def retain(self, raws: Iterable[RawObject]) -> None:
        """Forget every view but those of `raws` (the objects of the newest live snapshot)."""
        wanted = {id(raw) for raw in raws}
        with self._lock:
            for key in [key for key in self._views if key[0] not in wanted]:
                del self._views[key]

    def _view(self, raw: RawObject, kind: str, build: Callable[[RawObject], Any]) -> Any:
        key = (id(raw), kind)
        with self._lock:
            entry = self._views.get(key)
            if entry is not None and entry[0] is raw:
                self._views.move_to_end(key)
                return entry[1]
        view = build(raw)
        with self._lock:
            self._views[key] = (raw, view)
            self._views.move_to_end(key)
            while len(self._views) > self._keep:
                self._views.popitem(last=False)
        return view


# One per process: the status service's collector and the bootstrapper's watch each evaluate
# one live cluster.
LIVE_VIEWS = ViewMemo()
