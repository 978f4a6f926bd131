"""Server-side `Table` rendering (what `kubectl get` asks for) in virtual time.

The columns are kube-apiserver v1.37's (`table_columns.py`, `table_columns_cluster.py`), each
kind's cells computed as its printer computes them (`table_cells.py`), the wide columns included:
the server always sends them and kubectl hides priority 1 unless `-o wide`. A kind without
printer columns gets Name and Age; Flux's kinds the columns their CRDs print.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.store.event_views import is_view, storage_form, storage_key
from simulator.api.table_cells import FLUX_READERS, READERS, Reader, human_age
from simulator.api.table_columns import AGE, COLUMNS, NAME, Column
from simulator.api.table_columns_apps import APPS_COLUMNS, APPS_READERS
from simulator.api.table_columns_cluster import CLUSTER_COLUMNS
from simulator.api.table_columns_infra import INFRA_COLUMNS, INFRA_READERS
from simulator.api.table_columns_platform import PLATFORM_COLUMNS, PLATFORM_READERS
from simulator.api.table_columns_policy import POLICY_COLUMNS, POLICY_READERS
from simulator.api.table_columns_storage import (
    STORAGE_COLUMNS,
    STORAGE_READERS,
    default_storage_class,
)

__all__ = ["human_age", "table"]

Obj = dict[str, Any]
_COLUMNS = {
    **COLUMNS,
    **CLUSTER_COLUMNS,
    **POLICY_COLUMNS,
    **PLATFORM_COLUMNS,
    **INFRA_COLUMNS,
    **APPS_COLUMNS,
    **STORAGE_COLUMNS,
}
_READERS = {
    **READERS,
    **POLICY_READERS,
    **PLATFORM_READERS,
    **INFRA_READERS,
    **APPS_READERS,
    **STORAGE_READERS,
}
_STORAGE_CLASSES = ("storage.k8s.io", "storageclasses")
_IP_ADDRESSES = ("networking.k8s.io", "ipaddresses")
_FLUX_COLUMNS: tuple[Column, ...] = (
    NAME,
    ("Age", "string", "", 0, ""),
    ("Ready", "string", "", 0, ""),
    ("Status", "string", "", 0, ""),
)


def _name(obj: Obj, _now: datetime) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _age(obj: Obj, now: datetime) -> str:
    return human_age((obj.get("metadata") or {}).get("creationTimestamp"), now)


def _cells(columns: tuple[Column, ...], readers: dict[str, Reader]) -> list[Reader]:
    every = {"Name": _name, "Age": _age, **readers}
    return [every[column[0]] for column in columns]


def table(
    info: KindInfo, items: list[Obj], now: datetime, resource_version: str, *, listed: bool = False
) -> Obj:
    """A `meta.k8s.io/v1` Table of `items` with kube-apiserver's columns for the kind (`listed`:
    a list's, where the default StorageClass is named so)."""
    key = storage_key(info.group, info.plural)  # events.k8s.io's Events print as core's
    if info.group.endswith("toolkit.fluxcd.io"):
        columns, readers = _FLUX_COLUMNS, FLUX_READERS
    else:
        if is_view(info):  # a stored Event is in core's form already: only the view's converted
            items = [storage_form(info, obj) for obj in items]
        columns, readers = _COLUMNS.get(key, (NAME, AGE)), _READERS.get(key, {})
        if listed and key == _STORAGE_CLASSES and (default := default_storage_class(items)):
            readers = {**readers, "Name": lambda o, _n: _name(o, _n) + (
                " (default)" if _name(o, _n) == default else ""
            )}  # fmt: skip
    cells = _cells(columns, readers)
    if key == _IP_ADDRESSES:  # printIPAddress writes an Age cell its columns do not name
        cells.append(_age)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {"name": n, "type": t, "format": f, "description": d, "priority": p}
            for n, t, f, p, d in columns
        ],
        "rows": [
            {
                "cells": [read(obj, now) for read in cells],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj.get("metadata") or {},
                },
            }
            for obj in items
        ]
        # The convertors with a Created At column (the default one, the CRDs') append each row
        # to a nil slice: no rows is null there, where the printers make an empty one.
        or (None if any(column[0] == "Created At" for column in columns) else []),
    }
