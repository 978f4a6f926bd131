"""Loading the kustomize directories we ship, with the subset of kustomize we use.

Supported: `resources:` (YAML files and directories holding a kustomization.yaml), `namespace:`
and `images:` (name -> newName/newTag). That is all our manifests need, and it keeps the
bootstrapper free of a kustomize binary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from appliance.errors import BootstrapError

__all__ = ["load_kustomization", "manifest_dir", "set_images"]

_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def manifest_dir(name: str) -> Path:
    """A directory under `appliance/manifests/` (installed with the package)."""
    return Path(str(resources.files("appliance").joinpath("manifests", name)))


def _kustomization_file(directory: Path) -> Path:
    for name in _KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise BootstrapError(
        f"{directory} has no kustomization.yaml",
        layer="release manifests",
        next_action="reinstall the appliance package; its manifests are incomplete",
    )


def _load_file(path: Path) -> list[dict[str, Any]]:
    try:
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise BootstrapError(
            f"manifest {path} cannot be read: {exc}",
            layer="release manifests",
            next_action="fix or restore the manifest file",
        ) from exc
    return [d for d in docs if isinstance(d, dict) and d.get("kind")]


def set_images(
    objects: Iterable[dict[str, Any]], images: Mapping[str, tuple[str | None, str | None]]
) -> list[dict[str, Any]]:
    """Rewrite container images: `name` -> (newName, newTag), like kustomize `images:`."""
    out = []
    for obj in objects:
        spec = obj.get("spec") or {}
        template = (
            spec.get("template")
            or (spec.get("jobTemplate") or {}).get("spec", {}).get("template")
            or {}
        )
        pod = template.get("spec") or {}
        for key in ("containers", "initContainers"):
            for container in pod.get(key) or []:
                image = str(container.get("image", ""))
                name, tag = _split(image)
                if name in images:
                    new_name, new_tag = images[name]
                    container["image"] = f"{new_name or name}:{new_tag or tag}"
        out.append(obj)
    return out


def _split(image: str) -> tuple[str, str]:
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, "latest"
    return name, tag


def load_kustomization(directory: Path) -> list[dict[str, Any]]:
    """All objects of a kustomize directory, transformations applied, in resource order."""
    data = yaml.safe_load(_kustomization_file(directory).read_text(encoding="utf-8")) or {}
    objects: list[dict[str, Any]] = []
    for entry in data.get("resources") or []:
        target = (directory / str(entry)).resolve()
        if target.is_dir():
            objects.extend(load_kustomization(target))
        elif target.is_file():
            objects.extend(_load_file(target))
        else:
            raise BootstrapError(
                f"{directory}: resource {entry} does not exist",
                layer="release manifests",
                next_action="fix the kustomization.yaml resources list",
            )
    namespace = data.get("namespace")
    if namespace:
        for obj in objects:
            if obj.get("kind") not in {
                "Namespace",
                "ClusterRole",
                "ClusterRoleBinding",
                "CustomResourceDefinition",
            }:
                obj.setdefault("metadata", {})["namespace"] = namespace
    images = {
        str(i["name"]): (i.get("newName"), None if i.get("newTag") is None else str(i["newTag"]))
        for i in data.get("images") or []
    }
    return set_images(objects, images) if images else objects
