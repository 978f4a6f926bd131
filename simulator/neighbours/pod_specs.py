"""What a pod spec means for a real process: which images run as one, the token it reads,
its port and its environment, resolved the way the kubelet resolves them."""

from __future__ import annotations

import base64
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from simulator.api.store import Subscriptions

__all__ = [
    "DEFAULT_IMAGES",
    "ProcessImage",
    "StoreView",
    "container_env",
    "container_port",
    "http_probe",
    "image_for",
    "secret_values",
    "token_ref",
    "write_secret_file",
]

Obj = dict[str, Any]


class StoreView(Protocol):
    """The slice of a `simulator.api.store.Store` the runner uses."""

    @property
    def changes(self) -> Subscriptions: ...

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None: ...

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[Obj]: ...


@dataclass(frozen=True)
class ProcessImage:
    """How to run one of our images as a process.

    `argv` is a template: `{node_ip}`, `{port}`, `{sa_kubeconfig}`, `{token_file}`, `{namespace}`,
    `{name}`. argv[0] is looked up in `ProcessRunner.executable_dirs`, then on PATH.
    """

    image_prefix: str
    argv: tuple[str, ...]
    port: int = 8080
    health_path: str = "/healthz"
    # The Secret holding the UI token, when the pod spec does not name one with key `token_key`;
    # None for a program that takes no token (the Flux controllers).
    token_secret: str | None = "appliance-status-auth"  # noqa: S105 - a Secret's name
    token_key: str = "token"  # noqa: S105 - a key name
    # `port` even when the container declares another: processes sharing the node address
    # cannot all take the port each would have in its own pod.
    fixed_port: bool = False
    # Flags that take seconds of the pod's own time, with the values it runs with when deployed:
    # the process gets them divided by the world's speed, so it acts as often in virtual time
    # as it would on an appliance.
    timed_flags: tuple[tuple[str, float], ...] = ()


DEFAULT_IMAGES: tuple[ProcessImage, ...] = (
    ProcessImage(
        image_prefix="ghcr.io/nine-minds/appliance-status",
        argv=(
            "appliance-status",
            "serve",
            "--host",
            "{node_ip}",
            "--port",
            "{port}",
            "--kubeconfig",
            "{sa_kubeconfig}",
            "--token-file",
            "{token_file}",
        ),
        # status_web's defaults, which the Deployment keeps: evaluate every 5s, probe the
        # login URL every 10s (at the world's 60x, a wall-clock 10s would be ten minutes).
        timed_flags=(("--interval", 5.0), ("--probe-interval", 10.0)),
    ),
)


def token_ref(pod_spec: Obj, container: Obj, known: ProcessImage) -> tuple[str, str]:
    """The Secret and key holding the UI token, as named in the pod spec."""
    for entry in container.get("env") or []:
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref and ref.get("key") == known.token_key:
            return str(ref.get("name")), known.token_key
    for volume in pod_spec.get("volumes") or []:
        secret = volume.get("secret")
        if secret and secret.get("secretName"):
            return str(secret["secretName"]), known.token_key
    return known.token_secret or "", known.token_key


def container_port(container: Obj, default: int) -> int:
    for port in container.get("ports") or []:
        if port.get("containerPort"):
            return int(port["containerPort"])
    return default


def image_for(images: Sequence[ProcessImage], deployment: Obj) -> tuple[ProcessImage, Obj] | None:
    """The known image a Deployment runs, and the container that runs it."""
    pod_spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in pod_spec.get("containers") or []:
        image = str(container.get("image") or "")
        for known in images:
            if image.startswith(known.image_prefix):
                return known, container
    return None


def secret_values(store: StoreView | None, namespace: str, name: str) -> dict[str, str] | None:
    """A Secret's decoded values (None when it does not exist)."""
    if store is None:
        return None
    obj = store.get("v1", "Secret", name, namespace)
    if obj is None:
        return None
    values = {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
    values.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
    return values


def container_env(
    store: StoreView | None,
    container: Obj,
    *,
    pod: tuple[str, str],
    node_ip: str,
    node_name: str,
) -> dict[str, str]:
    """The container's environment, resolved the way the kubelet would."""
    key = pod
    env: dict[str, str] = {}
    for entry in container.get("env") or []:
        name = str(entry.get("name"))
        if "value" in entry:
            env[name] = str(entry["value"])
            continue
        source = entry.get("valueFrom") or {}
        if "fieldRef" in source:
            path = source["fieldRef"].get("fieldPath")
            env[name] = {
                "status.hostIP": node_ip,
                "status.podIP": node_ip,
                "metadata.namespace": key[0],
                "metadata.name": f"{key[1]}-0",
                "spec.nodeName": node_name,
            }.get(path, "")
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            secret = secret_values(store, key[0], str(ref.get("name"))) or {}
            if ref.get("key") in secret:
                env[name] = secret[ref["key"]]
        elif "configMapKeyRef" in source and store is not None:
            ref = source["configMapKeyRef"]
            cm = store.get("v1", "ConfigMap", str(ref.get("name")), key[0]) or {}
            value = (cm.get("data") or {}).get(ref.get("key"))
            if value is not None:
                env[name] = str(value)
    return env


def write_secret_file(path: Path, text: str) -> None:
    """A Secret key as a 0600 file, replaced atomically like the kubelet's mounted Secret volume
    (a new file renamed over the old): a reader sees the old or the new value, never half."""
    staging = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    staging.chmod(0o600)
    os.replace(staging, path)


def http_probe(url: str) -> bool:
    """An httpGet readiness probe as the kubelet runs it: any 2xx or 3xx within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback URL
            return bool(200 <= response.status < 400)
    except (urllib.error.URLError, OSError, ValueError):
        return False
