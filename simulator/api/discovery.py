"""Discovery documents built from the live kind registry (OpenAPI is `openapi.py`).

Both discovery flavours are served: the legacy per-group documents and the aggregated
`apidiscovery.k8s.io/v2` lists that kubectl asks for first.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from simulator.api.kind_registry import KindRegistry
from simulator.api.kinds import SUBRESOURCES, KindInfo

__all__ = [
    "AGGREGATED_CONTENT_TYPE",
    "aggregated",
    "api_group",
    "api_group_list",
    "api_resource_list",
    "api_versions",
    "version_info",
]

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def _sub_kind(info: KindInfo, sub: str) -> tuple[str, str, str]:
    """(group, version, kind) a subresource answers with: its own, or its resource's."""
    answers = SUBRESOURCES.get(sub, (None, ()))[0]
    return answers or (info.group, info.version, info.kind)


def _subresources(info: KindInfo) -> list[str]:
    """A built-in kind's subresources by name (its legacy list is sorted); a custom kind's
    status before its scale, in the order the CRD discovery controller adds them."""
    if info.crd_name:
        return [sub for sub in ("status", "scale") if sub in info.subresources]
    return sorted(info.subresources)


def _sub_verbs(sub: str) -> list[str]:
    return list(SUBRESOURCES.get(sub, (None, ("get",)))[1])


def version_info(git_version: str) -> dict[str, str]:
    """The `/version` document, with the emulation and compatibility versions kube-apiserver
    reports since v1.33 (it emulates its own version and stays compatible with the one before)."""
    major, minor = git_version.lstrip("v").split(".")[:2]
    info = {"major": major, "minor": minor}
    if minor.isdigit() and (int(major), int(minor)) >= (1, 33):
        info |= {
            "emulationMajor": major,
            "emulationMinor": minor,
            "minCompatibilityMajor": major,
            "minCompatibilityMinor": str(int(minor) - 1),
        }
    return info | {
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-12-10T11:37:39Z",
        "goVersion": "go1.22.10",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    """`/api`: the legacy core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_entry(group: str, versions: list[str]) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(registry: KindRegistry) -> dict[str, Any]:
    """`/apis`: every named group."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_entry(g, vs) for g, vs in registry.groups()],
    }


def api_group(registry: KindRegistry, group: str) -> dict[str, Any] | None:
    """`/apis/<group>`, or None when the group is not served."""
    for g, vs in registry.groups():
        if g == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(g, vs)}
    return None


def _hash(info: KindInfo) -> str:
    """kube-apiserver's storageVersionHash: the first 8 bytes of sha256("group/version/kind"),
    base64 (the version here is the served one, the storage version of nearly every kind)."""
    digest = hashlib.sha256(f"{info.group}/{info.version}/{info.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def api_resource_list(registry: KindRegistry, group: str, version: str) -> dict[str, Any] | None:
    """`/api/v1` or `/apis/<g>/<v>`: the resources of one group version (None = 404)."""
    kinds = registry.for_group_version(group, version)
    if not kinds:
        return None
    resources: list[dict[str, Any]] = []
    for info in sorted(kinds, key=lambda k: k.plural):  # by name, as kube-apiserver lists them
        entry: dict[str, Any] = {
            "name": info.plural,
            "singularName": info.singular_name,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": list(info.verbs),
        }
        if "watch" in info.verbs:  # a stored kind's; reviews, bindings, component statuses: none
            entry["storageVersionHash"] = _hash(info)
        if info.short_names:
            entry["shortNames"] = list(info.short_names)
        if info.categories:
            entry["categories"] = list(info.categories)
        resources.append(entry)
        for sub in _subresources(info):
            group, version, kind = _sub_kind(info, sub)
            entry = {
                "name": f"{info.plural}/{sub}",
                "singularName": "",
                "namespaced": info.namespaced,
            }
            if (group, version) != (info.group, info.version):
                entry |= {"group": group, "version": version}
            resources.append(entry | {"kind": kind, "verbs": _sub_verbs(sub)})
    gv = version if not group else f"{group}/{version}"
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }


def _response_kind(info: KindInfo, group: str, version: str, kind: str) -> dict[str, str]:
    """kube-apiserver's responseKind: for a built-in kind, the group and version only when they
    are not the resource's own (it converts its legacy APIResource, which names them only
    then); the CRD handler always names them."""
    if (group, version) == (info.group, info.version) and not info.crd_name:
        group = version = ""
    return {"group": group, "version": version, "kind": kind}


def _aggregated_resource(info: KindInfo) -> dict[str, Any]:
    kind = _response_kind(info, info.group, info.version, info.kind)
    entry: dict[str, Any] = {
        "resource": info.plural,
        "responseKind": kind,
        "scope": "Namespaced" if info.namespaced else "Cluster",
        "singularResource": info.singular_name,
        "verbs": list(info.verbs),
    }
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    if info.subresources:
        entry["subresources"] = [
            {
                "subresource": sub,
                "responseKind": _response_kind(info, *_sub_kind(info, sub)),
                "verbs": _sub_verbs(sub),
            }
            for sub in _subresources(info)  # as in the legacy resource list
        ]
    return entry


def aggregated(registry: KindRegistry, *, legacy: bool) -> dict[str, Any]:
    """The aggregated discovery list for `/api` (legacy=True) or `/apis`."""
    groups = [("", ["v1"])] if legacy else registry.groups()
    items = []
    for group, versions in groups:
        items.append(
            {
                "metadata": {"name": group} if group else {},
                "versions": [
                    {
                        "version": v,
                        "resources": [
                            _aggregated_resource(i)
                            # by name, as kube-apiserver lists them (its legacy list's order)
                            for i in sorted(
                                registry.for_group_version(group, v), key=lambda k: k.plural
                            )
                        ],
                        "freshness": "Current",
                    }
                    for v in versions
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
