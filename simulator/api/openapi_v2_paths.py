"""The paths and global parameters of `/openapi/v2` in gnostic's OpenAPIv2 messages.

kubectl reads v2's operations when v3 cannot answer: a kind with no PATCH operation in v3 (the
reviews, TokenRequest) makes its field-validation check fall back to v2, where kube-apiserver's
document says Namespace's PATCH takes `fieldValidation`, so kubectl then lists CRDs to learn
whether the kind is one (refused to a user bound to `view`: `kubectl create -f` of a review fails
there unless `--validate=false`). Without paths, kubectl skipped that step on the fake API only.
The operations are written as the swagger document has them; a value gnostic keeps as YAML
(defaults, enums, vendor extensions) is written as JSON, which is YAML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["fill_parameters", "fill_paths"]

_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch")
_LISTS = ("tags", "consumes", "produces", "schemes")
_TEXTS = {"description": "description", "operationId": "operation_id", "summary": "summary"}
# A non-body parameter's scalar fields (JSON name -> gnostic field), shared by its four forms.
_PARAMETER_SCALARS = {
    "name": "name",
    "in": "in",
    "description": "description",
    "required": "required",
    "type": "type",
    "format": "format",
    "uniqueItems": "unique_items",
    "collectionFormat": "collection_format",
    "pattern": "pattern",
}
_SUB_SCHEMAS = {
    "query": "query_parameter_sub_schema",
    "path": "path_parameter_sub_schema",
    "header": "header_parameter_sub_schema",
    "formData": "form_data_parameter_sub_schema",
}
FillSchema = Callable[[Any, dict[str, Any]], None]


def fill_paths(document: Any, paths: dict[str, Any], fill_schema: FillSchema) -> None:
    """Write the swagger `paths` into `document.paths`."""
    for name, item in paths.items():
        named = document.paths.path.add()
        named.name = name
        for key, value in item.items():
            if key in _OPERATIONS:
                _fill_operation(getattr(named.value, key), value, fill_schema)
            elif key == "parameters":
                for parameter in value:
                    _fill_parameters_item(named.value.parameters.add(), parameter, fill_schema)
            elif key.startswith("x-"):
                _extension(named.value, key, value)


def fill_parameters(document: Any, parameters: dict[str, Any], fill_schema: FillSchema) -> None:
    """Write the swagger document's global `parameters` (what `$ref`s name)."""
    for name, parameter in parameters.items():
        named = document.parameters.additional_properties.add()
        named.name = name
        _fill_parameter(named.value, parameter, fill_schema)


def _fill_operation(target: Any, operation: dict[str, Any], fill_schema: FillSchema) -> None:
    for key, value in operation.items():
        if key in _LISTS:
            getattr(target, key).extend(value)
        elif key in _TEXTS:
            setattr(target, _TEXTS[key], value)
        elif key == "deprecated":
            target.deprecated = bool(value)
        elif key == "parameters":
            for parameter in value:
                _fill_parameters_item(target.parameters.add(), parameter, fill_schema)
        elif key == "responses":
            for code, response in value.items():
                named = target.responses.response_code.add()
                named.name = code
                if "$ref" in response:
                    named.value.json_reference._ref = response["$ref"]
                    continue
                named.value.response.description = response.get("description", "")
                if isinstance(response.get("schema"), dict):
                    fill_schema(named.value.response.schema.schema, response["schema"])
        elif key.startswith("x-"):
            _extension(target, key, value)


def _fill_parameters_item(target: Any, parameter: dict[str, Any], fill_schema: FillSchema) -> None:
    if "$ref" in parameter:
        target.json_reference._ref = parameter["$ref"]
    else:
        _fill_parameter(target.parameter, parameter, fill_schema)


def _fill_parameter(target: Any, parameter: dict[str, Any], fill_schema: FillSchema) -> None:
    if parameter.get("in") != "body":
        _fill_non_body(target.non_body_parameter, parameter)
        return
    body = target.body_parameter
    for key in ("name", "in", "description", "required"):
        if key in parameter:
            setattr(body, key, parameter[key])
    if isinstance(parameter.get("schema"), dict):
        fill_schema(body.schema, parameter["schema"])


def _fill_non_body(target: Any, parameter: dict[str, Any]) -> None:
    where = str(parameter.get("in"))
    sub = getattr(target, _SUB_SCHEMAS.get(where, "query_parameter_sub_schema"))
    for key, value in parameter.items():
        if key in _PARAMETER_SCALARS:
            setattr(sub, _PARAMETER_SCALARS[key], value)
        elif key == "allowEmptyValue" and where in ("query", "formData"):
            sub.allow_empty_value = bool(value)
        elif key == "default":
            sub.default.yaml = json.dumps(value)
        elif key == "enum":
            for member in value:
                sub.enum.add().yaml = json.dumps(member)
        elif key == "items" and isinstance(value, dict):
            for field in ("type", "format"):
                if field in value:
                    setattr(sub.items, field, value[field])
        elif key.startswith("x-"):
            _extension(sub, key, value)


def _extension(target: Any, key: str, value: Any) -> None:
    extension = target.vendor_extension.add()
    extension.name = key
    extension.value.yaml = json.dumps(value)
