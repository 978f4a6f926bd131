"""Where a strategic merge patch merges a built-in kind: each field's patch strategy and merge
key, read from kube-apiserver's OpenAPI v3 documents (`x-kubernetes-patch-strategy` and
`x-kubernetes-patch-merge-key`, which k8s.io/api's Go struct tags become), as strategicpatch's
PatchMetaFromStruct reads the tags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.api.fields.kinds import component_schema
from simulator.api.kinds import KindInfo

__all__ = ["PatchMeta", "patch_meta"]


@dataclass(frozen=True)
class PatchMeta:
    """The patch metadata of one object type, and the way to its fields' types."""

    components: Mapping[str, Any]
    schema: Mapping[str, Any]

    def field(self, name: str) -> tuple[str, str | None, PatchMeta | None]:
        """A field's patch strategy (`merge`, `retainKeys`, both, or "" to replace), its merge
        key, and the metadata of its value (a list's items)."""
        spec = (self.schema.get("properties") or {}).get(name)
        if not isinstance(spec, dict):
            extra = self.schema.get("additionalProperties")
            return "", None, self._of(extra) if isinstance(extra, dict) else None
        strategy = str(spec.get("x-kubernetes-patch-strategy") or "")
        key = spec.get("x-kubernetes-patch-merge-key")
        items = spec.get("items") if spec.get("type") == "array" else spec
        return strategy, str(key) if key else None, self._of(items)

    def _of(self, spec: Any) -> PatchMeta | None:
        if not isinstance(spec, dict):
            return None
        target = spec.get("$ref")
        all_of = spec.get("allOf") or []
        if not target and len(all_of) == 1 and isinstance(all_of[0], dict):
            target = all_of[0].get("$ref")
        if target:
            found = self.components.get(str(target).rpartition("/")[2])
            return PatchMeta(self.components, found) if isinstance(found, dict) else None
        if spec.get("properties") or isinstance(spec.get("additionalProperties"), dict):
            return PatchMeta(self.components, spec)
        return None


def patch_meta(info: KindInfo) -> PatchMeta | None:
    """The kind's patch metadata; None for a custom kind or without the OpenAPI documents."""
    if info.crd_name:
        return None
    found = component_schema(info.group, info.version, info.kind)
    return PatchMeta(*found) if found is not None else None
