"""What kube-apiserver checks in the content of a ConfigMap, a Secret and a Service (a subset of
pkg/apis/core/validation, in its words), and what an immutable ConfigMap or Secret may not change.

A Secret is checked as kube-apiserver holds it: its `stringData` already in `data`
(`secret_as_stored`), since v1's conversion to the internal type merges it there.
"""

from __future__ import annotations

import base64
import functools
import re
from typing import Any

from simulator.api.names import regex_error
from simulator.api.store.go_values import bad_value, not_supported
from simulator.api.store.label_rules import labels_errors

__all__ = ["content_errors", "secret_as_stored", "update_errors"]

_CONFIG_KEY = "[-._a-zA-Z0-9]+"
_CONFIG_KEY_RE = re.compile(_CONFIG_KEY)
_CONFIG_KEY_MESSAGE = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
# The keys each Secret type must hold (pkg/apis/core/validation ValidateSecret).
_SECRET_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_IMMUTABLE = "Forbidden: field is immutable when `immutable` is set"
# A ConfigMap's or a Secret's values together (core.MaxSecretSize: etcd's request limit).
_MAX_SIZE = 1024 * 1024
_TOO_LONG = f"Too long: may not be more than {_MAX_SIZE} bytes"


def content_errors(group: str, kind: str, obj: dict[str, Any]) -> list[str]:
    """Field errors of a ConfigMap's, a Secret's or a Service's content ([] when valid)."""
    if group != "":
        return []
    if kind == "ConfigMap":
        too_big = _size(obj, ("binaryData",)) > _MAX_SIZE
        return _key_errors(obj) + ([f"[]: {_TOO_LONG}"] if too_big else [])  # the path ""
    if kind == "Secret":
        secret = secret_as_stored(obj)
        too_big = _size(secret, ("data",)) > _MAX_SIZE
        size_errors = [f"data: {_TOO_LONG}"] if too_big else []
        return _key_errors(secret) + size_errors + _secret_type_errors(secret)
    if kind == "Service":
        return _service_errors(obj.get("spec") or {})
    return []


def update_errors(group: str, kind: str, live: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What a Secret's update may not change (its type), what an immutable ConfigMap or Secret
    refuses to, and a Service's cluster IPs."""
    if (group, kind) == ("", "Service"):
        return _cluster_ip_errors(live.get("spec") or {}, new.get("spec") or {})
    if group != "" or kind not in ("ConfigMap", "Secret"):
        return []
    errors = []
    if kind == "Secret" and (new.get("type") or "Opaque") != (live.get("type") or "Opaque"):
        errors.append(f'type: Invalid value: "{new["type"]}": field is immutable')
    if live.get("immutable") is not True:
        return errors
    new = secret_as_stored(new) if kind == "Secret" else new
    errors += [] if new.get("immutable") is True else [f"immutable: {_IMMUTABLE}"]
    fields = ("data", "binaryData") if kind == "ConfigMap" else ("data",)
    return errors + [
        f"{f}: {_IMMUTABLE}" for f in fields if (live.get(f) or {}) != (new.get(f) or {})
    ]


def secret_as_stored(secret: dict[str, Any]) -> dict[str, Any]:
    """The Secret as kube-apiserver stores it: each `stringData` value base64-encoded into
    `data`, over a `data` value of the same key, and no `stringData` (pkg/apis/core/v1
    Convert_v1_Secret_To_core_Secret). `secret` itself when it has none; else a shallow copy."""
    if "stringData" not in secret:
        return secret
    stored = dict(secret)
    strings = stored.pop("stringData")
    if isinstance(strings, dict) and strings:
        data = stored.get("data")
        stored["data"] = (dict(data) if isinstance(data, dict) else {}) | {
            str(key): base64.b64encode(b"" if value is None else str(value).encode()).decode()
            for key, value in strings.items()
        }
    return stored


def _size(obj: dict[str, Any], encoded: tuple[str, ...]) -> int:
    """The bytes of a ConfigMap's or a Secret's values (`encoded` fields hold base64)."""
    total = 0
    for field in ("data", "binaryData"):
        values = obj.get(field)
        for value in values.values() if isinstance(values, dict) else ():
            text = str(value)
            decoded = len(text) * 3 // 4 - text[-2:].count("=")
            total += decoded if field in encoded else len(text.encode())
    return total


def _key_errors(obj: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    for field, keys in (("data", data), ("binaryData", binary)):
        for key in keys if isinstance(keys, dict) else ():
            # A loop, not a comprehension: nearly every key has no error to word.
            for e in _config_key(key):
                errors.append(f'{field}[{key}]: Invalid value: "{key}": {e}')
    if binary and isinstance(data, dict) and isinstance(binary, dict):
        errors += [
            f'data[{key}]: Invalid value: "{key}": duplicate of key present in binaryData'
            for key in binary
            if key in data
        ]
    return errors


@functools.lru_cache(maxsize=4096)  # the same few keys in ConfigMap after ConfigMap
def _config_key(key: str) -> tuple[str, ...]:
    """apimachinery's IsConfigMapKey."""
    errors = ["must be no more than 253 characters"] if len(key) > 253 else []
    if not _CONFIG_KEY_RE.fullmatch(key):
        errors.append(
            regex_error(_CONFIG_KEY_MESSAGE, _CONFIG_KEY, "key.name", "KEY_NAME", "key-name")
        )
    if key in (".", ".."):
        errors.append(f"must not be '{key}'")
    elif key.startswith(".."):
        errors.append("must not start with '..'")
    return tuple(errors)


def _secret_type_errors(secret: dict[str, Any]) -> list[str]:
    data = secret.get("data") or {}
    kind = secret.get("type")
    if kind == "kubernetes.io/basic-auth" and not (data.get("username") or data.get("password")):
        return ["data[username]: Required value", "data[password]: Required value"]
    if kind == "kubernetes.io/service-account-token":
        name = "kubernetes.io/service-account.name"
        if not ((secret.get("metadata") or {}).get("annotations") or {}).get(name):
            return [f"metadata.annotations[{name}]: Required value"]
    return [
        f"data[{key}]: Required value" for key in _SECRET_KEYS.get(str(kind), ()) if key not in data
    ]


def _service_errors(spec: dict[str, Any]) -> list[str]:
    kind = spec.get("type") or "ClusterIP"
    errors: list[str] = []
    ports = spec.get("ports") or []
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        errors.append("spec.ports: Required value")
    for i, port in enumerate(ports if isinstance(ports, list) else []):
        if not isinstance(port, dict):
            continue
        if len(ports) > 1 and not port.get("name"):
            errors.append(f"spec.ports[{i}].name: Required value")
        for field in ("port", "targetPort"):
            number = port.get(field, port.get("port") if field == "targetPort" else None)
            if isinstance(number, int) and not 1 <= number <= 65535:
                errors.append(
                    f"spec.ports[{i}].{field}: Invalid value: {number}: must be between 1 and "
                    "65535, inclusive"
                )
    errors += labels_errors(spec.get("selector"), "spec.selector")
    if kind not in _SERVICE_TYPES:
        errors.append(not_supported("spec.type", kind, _SERVICE_TYPES))
    if kind == "ClusterIP":
        errors += [
            f"spec.ports[{i}].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
            for i, port in enumerate(ports if isinstance(ports, list) else [])
            if isinstance(port, dict) and port.get("nodePort")
        ]
    return errors


def _cluster_ip_errors(old: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """validateUpgradeDowngradeClusterIPs on a single-stack cluster: a Service's cluster IP
    may not change (an ExternalName has none, a headless one stays headless)."""
    if "ExternalName" in (old.get("type"), spec.get("type")):
        return []
    before, after = old.get("clusterIPs") or [], spec.get("clusterIPs") or []
    if before[:1] == ["None"] and after[:1] == ["None"]:
        return []
    shown = bad_value(spec.get("clusterIPs"))
    if len(before) == len(after):
        return [
            f"spec.clusterIPs[{i}]: Invalid value: {shown}: may not change once set"
            for i, ip in enumerate(before)
            if ip != after[i]
        ]
    if len(before) > len(after) and not after:
        return [f"spec.clusterIPs[0]: Invalid value: {shown}: primary clusterIP can not be unset"]
    if before and after and before[0] != after[0]:
        return [f"spec.clusterIPs[0]: Invalid value: {shown}: may not change once set"]
    return []
