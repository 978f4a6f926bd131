"""Talos's file formats as `talosctl` writes them: the talosconfig (client CA and contexts) and
the machine configuration of `gen config`, with strategic and JSON 6902 patches applied as the
real CLI applies them. Kept free of pydantic and the host model: the CLI imports it on every run,
so what only `gen config` needs (yaml, secrets, copy) is imported there.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from simulator.errors import SimulatorError

TYPE_CHECKING = False  # typing and pathlib only for mypy, which reads this as true
if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import Any, ClassVar

__all__ = [
    "CLIENT_VERSION",
    "INSTALLER_ENV",
    "PORT_ENV",
    "TALOS_PORT",
    "TalosctlError",
    "apply_patches",
    "ca_fingerprint",
    "machine_config",
    "new_ca_crt",
    "unreachable_text",
    "write_talosconfig",
]

TALOS_PORT = 50000


CLIENT_VERSION = "v1.12.0"


# Tests run several hosts side by side; they may move the apid port off 50000.
PORT_ENV = "SIM_TALOS_PORT"


# The world may name the installer image its scenario's host pulls (a Talos Image Factory image).
INSTALLER_ENV = "SIM_TALOS_INSTALLER_IMAGE"


class TalosctlError(SimulatorError):
    """A failure talosctl reports on stderr before exiting 1."""

    exit_code: ClassVar[int] = 1  # the real tool's code for any failure


# -- file formats ------------------------------------------------------------------------------
def _pem(label: str) -> str:
    import secrets

    body = base64.b64encode(secrets.token_bytes(96)).decode()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def new_ca_crt() -> str:
    """A fresh fake CA certificate, base64-encoded PEM as Talos configs carry it."""
    return base64.b64encode(_pem("CERTIFICATE").encode()).decode()


def ca_fingerprint(crt: str) -> str:
    """The identity a host and a talosconfig compare: sha256 of the decoded CA certificate."""
    import hashlib  # OpenSSL's libcrypto: loaded by the commands that present a CA only

    try:
        raw = base64.b64decode(crt.encode(), validate=True)
    except ValueError:
        raw = crt.encode()
    return hashlib.sha256(raw).hexdigest()


def write_talosconfig(path: Path, *, context: str, ca_pem: str, node: str | None) -> None:
    """Write a talosconfig with one context trusting `ca_pem` (a base64 certificate)."""
    doc = {
        "context": context,
        "contexts": {
            context: {
                "endpoints": [node] if node else [],
                "nodes": [node] if node else [],
                "ca": ca_pem,
                "crt": base64.b64encode(_pem("CERTIFICATE").encode()).decode(),
                "key": base64.b64encode(_pem("ED25519 PRIVATE KEY").encode()).decode(),
            }
        },
    }
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)


def unreachable_text(node: str) -> str:
    """What talosctl prints when nothing answers on node:50000."""
    return (
        'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
        f'dialing: dial tcp {node}:50000: connect: connection refused"'
    )


# -- gen config --------------------------------------------------------------------------------
def machine_config(
    kind: str, *, name: str, endpoint: str, ca: str, args: argparse.Namespace
) -> dict[str, Any]:
    import secrets

    token = f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
    install_image = (
        args.install_image
        or os.environ.get(INSTALLER_ENV)
        or (f"ghcr.io/siderolabs/installer:{args.talos_version}")
    )
    return {
        "version": "v1alpha1",
        "debug": False,
        "persist": True,
        "machine": {
            "type": kind,
            "token": token,
            "ca": {"crt": ca, "key": base64.b64encode(secrets.token_bytes(32)).decode()},
            "certSANs": list(args.additional_sans),
            "kubelet": {
                "image": f"ghcr.io/siderolabs/kubelet:{args.kubernetes_version}",
                "defaultRuntimeSeccompProfileEnabled": True,
            },
            "network": {},
            "install": {"disk": args.install_disk, "image": install_image, "wipe": False},
            "features": {"rbac": True, "stableHostname": True, "apidCheckExtKeyUsage": True},
        },
        "cluster": {
            "id": base64.b64encode(secrets.token_bytes(32)).decode(),
            "secret": base64.b64encode(secrets.token_bytes(32)).decode(),
            "controlPlane": {"endpoint": endpoint},
            "clusterName": name,
            "network": {
                "dnsDomain": "cluster.local",
                "podSubnets": ["10.244.0.0/16"],
                "serviceSubnets": ["10.96.0.0/12"],
            },
            "token": f"{secrets.token_hex(3)}.{secrets.token_hex(8)}",
            "ca": {"crt": new_ca_crt(), "key": base64.b64encode(secrets.token_bytes(32)).decode()},
        },
    }


def _merge(base: Any, patch: Any) -> Any:
    import copy

    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(patch)


def _json6902(doc: Any, ops: list[Any]) -> Any:
    import copy

    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "path" not in op or "op" not in op:
            raise TalosctlError(f"error applying config patch: invalid JSON patch operation {op!r}")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op["path"]).split("/")[1:]]
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1]
        if op["op"] in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                else:
                    parent.insert(int(last), op["value"])
            else:
                parent[last] = op["value"]
        elif op["op"] == "remove":
            if isinstance(parent, list):
                del parent[int(last)]
            else:
                parent.pop(last, None)
        else:
            raise TalosctlError(f"error applying config patch: unsupported op {op['op']!r}")
    return doc


def apply_patches(doc: dict[str, Any], patches: Sequence[str]) -> dict[str, Any]:
    from pathlib import Path

    import yaml

    result: Any = doc
    for patch in patches:
        text = Path(patch[1:]).read_text() if patch.startswith("@") else patch
        try:
            documents = [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError as exc:
            raise TalosctlError(f"error applying config patch: {exc}") from exc
        for loaded in documents:
            if isinstance(loaded, list):
                result = _json6902(result, loaded)
            elif isinstance(loaded, dict):
                result = _merge(result, loaded)
            else:
                raise TalosctlError(f"error applying config patch: unexpected patch {loaded!r}")
    if not isinstance(result, dict):
        raise TalosctlError("error applying config patch: result is not a machine config")
    return result
