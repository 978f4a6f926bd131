"""The simulated cluster's objects: the `Store` protocol and its in-memory implementation.

Parts, each with one job: `memory` (objects, resourceVersions, create/update/patch/delete),
`rules` (the API server's rules for a write), `history` (watch history), `applying` (server-side
apply), `cascade` (what goes with a deleted object), `defaults` (server-filled fields), `events`
(Events with repeat counts), `containers` (logs and exec), `subscriptions` (who hears of changes),
`errors` (each a Kubernetes Status), `protocol` (what the world needs of any store).
"""

from __future__ import annotations

from simulator.api.store.containers import ContainerLogs, ExecHandler, ExecHandlers
from simulator.api.store.errors import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    ExpiredError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    StoreError,
    UnsupportedMediaTypeError,
    status_body,
)
from simulator.api.store.events import EventRecorder
from simulator.api.store.history import WatchEvent
from simulator.api.store.memory import ObjectStore
from simulator.api.store.pod_logs import pod_log
from simulator.api.store.protocol import WORLD_MANAGER, PatchType, Store
from simulator.api.store.subscriptions import Subscriber, Subscriptions

__all__ = [
    "WORLD_MANAGER",
    "AlreadyExistsError",
    "BadRequestError",
    "ConflictError",
    "ContainerLogs",
    "EventRecorder",
    "ExecHandler",
    "ExecHandlers",
    "ExpiredError",
    "ForbiddenError",
    "InvalidError",
    "NotFoundError",
    "ObjectStore",
    "PatchType",
    "Store",
    "StoreError",
    "Subscriber",
    "Subscriptions",
    "UnsupportedMediaTypeError",
    "WatchEvent",
    "pod_log",
    "status_body",
]
