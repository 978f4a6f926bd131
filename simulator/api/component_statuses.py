"""`componentstatuses` (`kubectl get cs`, deprecated since v1.19 and still an admin's first look):
kube-apiserver's health probes of the control plane's parts, made on each read and never stored
(pkg/registry/core/componentstatus). Only get and list are served: a watch is refused by the
list handler in its words, after the deprecation warning; other verbs by the router
(request_errors.refuse_unserved).

The fake API's world has a working control plane, so each part answers as a healthy one does:
kube-controller-manager's and kube-scheduler's /healthz and etcd's health check each say `ok`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from simulator.api.asgi import Host, Request, Route
from simulator.api.media_types import TABLE, metadata_list, metadata_of
from simulator.api.rbac import UserInfo
from simulator.api.request_errors import MethodNotAllowedError, query_selectors
from simulator.api.store import NotFoundError
from simulator.api.tables import table

__all__ = ["component_statuses"]

# kube-apiserver's servers to validate (GetServersToValidate): the two controllers on their
# default secure ports, and each etcd server by its index.
_COMPONENTS = ("controller-manager", "scheduler", "etcd-0")
_ENC = msgspec.json.Encoder()
Obj = dict[str, Any]


def _status(name: str) -> Obj:
    """One part's ComponentStatus as a passing probe writes it (no `error`: it is empty)."""
    return {
        "kind": "ComponentStatus",
        "apiVersion": "v1",
        "metadata": {"name": name},
        "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}],
    }


class _WatchNotSupportedError(MethodNotAllowedError):
    """apierrors.NewMethodNotSupported: a storage that lists but cannot watch."""

    def __init__(self, plural: str) -> None:
        super().__init__()
        self.message = f'watch is not supported on resources of kind "{plural}"'
        self.kind = plural


async def component_statuses(host: Host, req: Request, route: Route, _user: UserInfo) -> int:
    """GET one part's status or the list of them, as a Table when kubectl asks for one."""
    info = route.info
    if req.verb == "watch":
        raise _WatchNotSupportedError(info.plural)
    if route.name:
        if route.name not in _COMPONENTS:
            # NewNotFound(api.Resource("componentstatus"), name): the singular, no group.
            message = f'componentstatus "{route.name}" not found'
            raise NotFoundError(message, name=route.name, kind="componentstatus")
        items = [_status(route.name)]
    else:
        labels, fields = query_selectors(req.query, info)
        every = [_status(name) for name in _COMPONENTS]
        items = [s for s in every if labels.matches(None) and fields.matches(s)]
    if req.answer.convert == TABLE:
        doc = table(info, items, host.store.clock.now(), "")
        doc["metadata"] = {}  # made on the read: no resourceVersion to name
    elif req.answer.convert:
        doc = (
            metadata_of(req.answer, info, items[0])
            if route.name
            else (metadata_list(req.answer, info, {}, items))
        )
    elif route.name:
        doc = items[0]
    else:
        # Its list is no stored list either: empty metadata, and items without kind.
        bare = [{k: v for k, v in s.items() if k not in ("kind", "apiVersion")} for s in items]
        doc = {"kind": "ComponentStatusList", "apiVersion": "v1", "metadata": {}, "items": bare}
    await host.respond(req.send, 200, _ENC.encode(doc))
    return 200
