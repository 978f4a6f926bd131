"""`KindRegistry`: the kinds served right now, built-ins plus whatever CRDs declare.

The store and the HTTP server share one registry so a CRD applied through kubectl becomes served
at once, and disappears (404 like a real server) when the CRD is deleted.
"""

from __future__ import annotations

import threading
from typing import Any

from simulator.api.kind_table import BUILTIN_KINDS, GROUP_ORDER
from simulator.api.kinds import CRD_VERBS, KindInfo, split_api_version, version_priority

__all__ = ["KindRegistry"]


class KindRegistry:
    """Thread-safe lookup of served kinds; CRDs are added and removed at runtime."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: list[KindInfo] = list(BUILTIN_KINDS)
        self._generation = 0
        self._reindex()

    def _reindex(self) -> None:
        """Lookup tables for the request path (swapped whole: readers need no lock)."""
        by_resource: dict[tuple[str, str, str], KindInfo] = {}
        by_name: dict[tuple[str, str, str], KindInfo] = {}
        for k in self._kinds:
            by_resource.setdefault((k.group, k.version, k.plural), k)
            by_name.setdefault((k.group, k.version, k.kind), k)
            by_name.setdefault((k.group, k.version, k.plural), k)
        self._by_resource, self._by_name = by_resource, by_name

    @property
    def generation(self) -> int:
        """Bumped on every change so discovery caches can tell when to rebuild."""
        return self._generation

    def all(self) -> list[KindInfo]:
        """Every served kind, built-ins first."""
        with self._lock:
            return list(self._kinds)

    def groups(self) -> list[tuple[str, list[str]]]:
        """[(group, [versions, preferred first])] in discovery order (core group excluded)."""
        order: dict[str, list[str]] = {}
        with self._lock:
            for info in self._kinds:
                versions = order.setdefault(info.group, [])
                if info.version not in versions:
                    versions.append(info.version)
        known = [g for g in GROUP_ORDER if g in order]
        extra = sorted(g for g in order if g not in GROUP_ORDER)
        return [(g, sorted(order[g], key=version_priority)) for g in [*known, *extra] if g]

    def for_group_version(self, group: str, version: str) -> list[KindInfo]:
        """Kinds served at `group/version`."""
        with self._lock:
            return [k for k in self._kinds if k.group == group and k.version == version]

    def by_resource(self, group: str, version: str, plural: str) -> KindInfo | None:
        """The kind served at `/apis/group/version/plural`, or None (404)."""
        return self._by_resource.get((group, version, plural))

    def by_kind(self, api_version: str, kind_or_plural: str) -> KindInfo | None:
        """The kind by apiVersion and either its Kind or its plural resource name."""
        group, version = split_api_version(api_version)
        return self._by_name.get((group, version, kind_or_plural))

    def add_crd(self, crd: dict[str, Any]) -> list[KindInfo]:
        """Serve the resources a CustomResourceDefinition declares (replacing earlier ones)."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = str(spec.get("group", ""))
        name = str((crd.get("metadata") or {}).get("name", ""))
        added: list[KindInfo] = []
        for ver in spec.get("versions") or []:
            if not ver.get("served", True):
                continue
            subs = ver.get("subresources") or {}
            added.append(
                KindInfo(
                    group=group,
                    version=str(ver.get("name")),
                    kind=str(names.get("kind", "")),
                    plural=str(names.get("plural", "")),
                    namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                    short_names=tuple(names.get("shortNames") or ()),
                    categories=tuple(names.get("categories") or ()),
                    subresources=tuple(sub for sub in ("scale", "status") if sub in subs),
                    has_status="status" in subs,
                    singular=str(names.get("singular", "")),
                    list_kind=str(names.get("listKind", "")),
                    crd_name=name,
                    schema=(ver.get("schema") or {}).get("openAPIV3Schema"),
                    scale=subs.get("scale"),
                    selectable=tuple(
                        str(each.get("jsonPath", "")).lstrip(".")
                        for each in ver.get("selectableFields") or ()
                    ),
                    verbs=CRD_VERBS,
                )
            )
        with self._lock:
            self._kinds = [k for k in self._kinds if k.crd_name != name or not name]
            self._kinds.extend(added)
            self._reindex()
            self._generation += 1
        return added

    def remove_crd(self, name: str) -> None:
        """Stop serving the resources of the CRD called `name`."""
        with self._lock:
            self._kinds = [k for k in self._kinds if k.crd_name != name]
            self._reindex()
            self._generation += 1
