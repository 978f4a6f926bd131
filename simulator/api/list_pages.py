"""Which objects a list answers with, page by page, as kube-apiserver chooses them.

A list is read at a resourceVersion: the newest one, or the one `resourceVersionMatch=Exact`
names, or, for a page after the first, the first page's (its `continue` token carries it). So a
client that pages through a list (kubectl's chunks of 500, client-go's reflector) sees one
consistent snapshot, and the watch it starts from the list's resourceVersion misses nothing
that changed while it paged. A past resourceVersion is read back from the watch history: each
change after it undone, newest first. One older than the history is kube-apiserver's 410; one
newer than the store's is its 504 (kube-apiserver waits three seconds for its cache first).
"""

from __future__ import annotations

from typing import Any

from simulator.api.asgi import first
from simulator.api.continue_tokens import decode_continue, encode_continue
from simulator.api.kinds import KindInfo
from simulator.api.request_errors import check_list_options, int_param, query_selectors
from simulator.api.selectors import FieldSelector, LabelSelector
from simulator.api.store import ObjectStore, StoreError
from simulator.api.store.errors import ExpiredError
from simulator.api.store.event_views import storage_key, stored_selector

__all__ = ["list_page"]

Obj = dict[str, Any]
_TOO_OLD = "The resourceVersion for the provided list is too old."
_TOO_OLD = "The resourceVersion for the provided list is too old."
_TOO_OLD_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list."
)


class _TooNewError(StoreError):
    """504: a resourceVersion the store has not reached (the watch cache's wait ran out):
    apierrors.NewTooLargeResourceVersionError, which asks the client to retry in a second."""

    code = 504
    reason = "Timeout"
    retry_after = 1

    def __init__(self, asked: object, current: int) -> None:
        message = "Too large resource version"
        super().__init__(
            f"Timeout: {message}: {asked}, current: {current}",
            causes=[{"reason": "ResourceVersionTooLarge", "message": message}],
        )


def list_page(
    store: ObjectStore, info: KindInfo, namespace: str | None, query: dict[str, list[str]]
) -> tuple[list[Obj], dict[str, Any]]:
    """The page's stored objects and the list's metadata."""
    check_list_options(query)
    labels, fields = query_selectors(query, info)
    token = first(query, "continue")
    after, at = decode_continue(token) if token else (None, None)
    asked = first(query, "resourceVersion")
    if at is None and first(query, "resourceVersionMatch") == "Exact":
        at = int(asked)
    if at is None:
        items, rv = store.list_refs(
            info,
            namespace=namespace,
            labels=labels if labels.requirements else None,
            fields=fields if fields.terms else None,
        )
        if asked not in ("", "0") and int(asked) > rv:
            raise _TooNewError(asked, rv)
    else:
        selectors = (labels, fields)
        items, rv = _items_at(store, info, namespace, at, selectors, continuing=bool(token))
    if after is not None:
        items = [o for o in items if _key(o) > after]
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    # resourceVersion=0 is served whole from the watch cache (cacher's computeListLimit);
    # Events have none (DefaultWatchCacheSizes: 0), so theirs are paged from etcd.
    cached = asked == "0" and info.plural != "events"
    limit = 0 if cached else int_param(query, "limit") or 0
    if limit > 0 and len(items) > limit:
        last = items[limit - 1]["metadata"]
        meta["continue"] = encode_continue(last.get("namespace", ""), last["name"], rv)
        if not (labels.requirements or fields.terms):  # counted only when nothing is filtered out
            meta["remainingItemCount"] = len(items) - limit
        items = items[:limit]
    return items, meta


def _key(obj: Obj) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _items_at(
    store: ObjectStore,
    info: KindInfo,
    namespace: str | None,
    at: int,
    selectors: tuple[LabelSelector, FieldSelector],
    *,
    continuing: bool,
) -> tuple[list[Obj], int]:
    """The objects a list matched at resourceVersion `at`: today's, each change since undone."""
    items, rv = store.list_refs(info, namespace=namespace)
    if at > rv:
        raise _TooNewError(at, rv)
    try:
        changes = store.history.since(at)
    except ExpiredError as exc:
        raise ExpiredError(_TOO_OLD_CONTINUE if continuing else _TOO_OLD) from exc
    group, plural = storage_key(info.group, info.plural)
    labels, fields = selectors
    fields = stored_selector(info, fields) or fields  # events.k8s.io's labels, as core's
    state = {_key(o): o for o in items}
    for change in reversed(changes):
        if (change.group, change.plural) != (group, plural):
            continue
        if namespace and change.namespace != namespace:
            continue
        key = (change.namespace, change.obj["metadata"]["name"])
        if change.type == "ADDED":
            state.pop(key, None)
        elif change.type == "MODIFIED" and change.previous is not None:
            state[key] = change.previous
        elif change.type == "DELETED":
            state[key] = change.previous or change.obj  # as it was before, its version too
    chosen = [
        o
        for key, o in sorted(state.items())
        if labels.matches(o["metadata"].get("labels")) and fields.matches(o)
    ]
    return chosen, at
