"""Strict field validation of built-in kinds (what kubectl asks for with fieldValidation=Strict).

A typo in a manifest (`contianers`, `enableServiceLink`) is a 400 on a real API server when
kubectl validates (its default). The schemas come from the official client's generated models
(`openapi_types` and `attribute_map` mirror the API's OpenAPI), so the simulator needs no copy
of the Kubernetes OpenAPI document. Custom resources are not checked (their CRDs here preserve
unknown fields).
"""

from __future__ import annotations

from typing import Any

__all__ = ["unknown_fields"]

_SPECIAL_MODELS = {
    ("", "Event"): "CoreV1Event",
    ("events.k8s.io", "Event"): "EventsV1Event",
}
_MAX_ERRORS = 20


def _model(name: str) -> Any:
    """A generated model class by name (None when there is none).

    Imported on first use: `kubernetes` loads its config machinery with its models (requests,
    oauthlib, pydantic: 0.2 s of CPU), which a world pays only once a client asks for strict
    validation (kubectl does; the bootstrapper and the fake flux never do).
    """
    from kubernetes.client import models

    return getattr(models, name, None)


def _model_for(group: str, version: str, kind: str) -> type | None:
    name = _SPECIAL_MODELS.get((group, kind)) or f"{version.capitalize()}{kind}"
    model = _model(name)
    return model if isinstance(model, type) and hasattr(model, "openapi_types") else None


def _inner(type_name: str, prefix: str) -> str:
    return type_name[len(prefix) : -1]


def _walk(value: Any, type_name: str, path: str, errors: list[str]) -> None:
    if len(errors) >= _MAX_ERRORS or value is None:
        return
    if type_name.startswith("List[") and isinstance(value, list):
        item_type = _inner(type_name, "List[")
        for index, item in enumerate(value):
            _walk(item, item_type, f"{path}[{index}]", errors)
        return
    if type_name.startswith("Dict[str, ") and isinstance(value, dict):
        item_type = _inner(type_name, "Dict[str, ")
        for key, item in value.items():
            _walk(item, item_type, f"{path}.{key}" if path else key, errors)
        return
    model = _model(type_name)
    attribute_map = getattr(model, "attribute_map", None)
    openapi_types = getattr(model, "openapi_types", None)
    if not isinstance(value, dict) or attribute_map is None or openapi_types is None:
        return
    types = {attribute_map[attr]: kind for attr, kind in openapi_types.items()}
    for key, item in value.items():
        if key.startswith("$"):
            continue  # strategic merge patch directives
        child = f"{path}.{key}" if path else key
        if key not in types:
            errors.append(f'unknown field "{child}"')
        else:
            _walk(item, types[key], child, errors)


def unknown_fields(obj: dict[str, Any], group: str, version: str, kind: str) -> list[str]:
    """`unknown field "spec.x"` messages for a built-in kind; [] for unknown or custom kinds."""
    model = _model_for(group, version, kind)
    if model is None:
        return []
    errors: list[str] = []
    _walk(obj, model.__name__, "", errors)
    return errors
