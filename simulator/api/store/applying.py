"""Patches and field management for the store's writes (server-side apply included).

Every write through the API names a field manager; the store keeps `metadata.managedFields` as
kube-apiserver does (`simulator.api.fields`): creates and updates give the manager the fields it
changed, an apply owns exactly its configuration's fields, removes what it stopped applying and
no one else owns, and refuses (409) to change fields other managers own unless forced. Writes of
the world itself (no manager) leave managedFields alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.fields import ApplyConflict, FieldsError, field_manager
from simulator.api.fields.patch_meta import patch_meta
from simulator.api.json_patch import apply_json_patch
from simulator.api.kinds import KindInfo
from simulator.api.patching import (
    MergeKeyMissing,
    PatchError,
    apply_merge_patch,
    apply_strategic_merge_patch,
)
from simulator.api.store.errors import (
    BadRequestError,
    ConflictError,
    InvalidError,
    PatchNotApplicableError,
    UnknownReasonError,
)
from simulator.api.store.patch_bodies import changes_nothing, refuse_mistyped, refuse_non_object
from simulator.api.store.rules import copy_object

__all__ = ["applied_object", "apply_configuration", "mutation", "track_update"]

_PATCHERS: dict[str, Callable[[Any, Any, KindInfo], Any]] = {
    "json": lambda live, body, _: apply_json_patch(live, body),
    "merge": lambda live, body, _: apply_merge_patch(live, body),
    # Strategic: where each field merges, from the kind's OpenAPI document.
    "strategic": lambda live, body, info: apply_strategic_merge_patch(live, body, patch_meta(info)),
}


def track_update(
    info: KindInfo,
    live: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    subresource: str | None,
    now: str,
) -> None:
    """Set `new`'s managedFields after a create (`live` None) or update by `manager`."""
    field_manager(info, subresource or "").update(live, new, manager, now)


def apply_configuration(
    info: KindInfo,
    live: dict[str, Any] | None,
    config: dict[str, Any],
    *,
    manager: str,
    subresource: str | None,
    force: bool,
    now: str,
) -> dict[str, Any]:
    """The object after `manager` applies `config` to `live` (None: creating it)."""
    group, _, version = info.api_version.rpartition("/")
    wanted = f"{group}/{version}, Kind={info.kind}"
    given_group, _, given_version = str(config.get("apiVersion", "")).rpartition("/")
    given = f"{given_group}/{given_version}, Kind={config.get('kind', '')}"
    if given != wanted:
        raise BadRequestError(f"invalid object type: {given}")
    meta = config.get("metadata") or {}
    try:
        return field_manager(info, subresource or "").apply(
            live, config, manager, force=force, now=now
        )
    except ApplyConflict as exc:
        raise ConflictError(exc.message, causes=exc.causes) from exc
    except FieldsError as exc:
        if "managedFields" in str(exc):
            raise BadRequestError(str(exc)) from exc
        where = f"{meta.get('namespace', '')}/{meta.get('name', '')}; {wanted}"
        raise UnknownReasonError(f"failed to create typed patch object ({where}): {exc}") from exc


def mutation(
    patch_type: str,
    body: Any,
    *,
    info: KindInfo,
    name: str,
    apply: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
    typed: bool = False,
    decoded: Callable[[dict[str, Any]], None] | None = None,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The change a patch makes to the live object (`apply(live, body)`: server-side apply).

    `typed` (a client's patch of a built-in kind): a result Go cannot decode into the kind's
    type is a 422, as kube-apiserver refuses it; `decoded` then sees the result (a client's
    json, merge or strategic patch is decoded as its kind, crud.py)."""

    def mutate(live: dict[str, Any]) -> dict[str, Any]:
        if patch_type == "apply":
            return apply(live, body)
        if changes_nothing(patch_type, body):
            return copy_object(live)
        try:
            if patch_type in _PATCHERS:
                result = _PATCHERS[patch_type](live, body, info)
                refuse_non_object(result)  # a JSON patch may replace the root with anything
                patched = dict(result)
                if typed and not info.crd_name:
                    refuse_mistyped(
                        info, live, patched, body if patch_type == "strategic" else None
                    )
                if decoded is not None:
                    decoded(patched)
                return patched
        except MergeKeyMissing as exc:  # strategicpatch's plain error, no Status: a 500
            raise UnknownReasonError(str(exc)) from exc
        except PatchError as exc:
            if patch_type == "json" and isinstance(body, list):
                raise PatchNotApplicableError(str(exc)) from exc
            raise InvalidError(str(exc), name=name, kind=info.plural) from exc
        raise BadRequestError(f"unknown patch type {patch_type!r}")

    return mutate


def applied_object(
    info: KindInfo, namespace: str, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The object an apply patch creates when none exists (named by the URL)."""
    obj = {**body, "metadata": {**(body.get("metadata") or {}), "name": name}}
    if info.namespaced:
        obj["metadata"]["namespace"] = namespace
    return obj
