"""The ServiceAccount admission plugin's work on a new Pod (k8s.io/kubernetes v1.37
plugin/pkg/admission/serviceaccount): the pod runs as `default` unless it names an account; the
account must exist (a 403 for the API's creates); unless the pod or its account turn automounting
off, every container and init container mounts a projected `kube-api-access-*` volume (a bound
token, the cluster CA, the namespace) at the account's path; an account's image pull secrets
become the pod's when it names none. kube-apiserver runs it after the field manager has seen the
create, so what it adds belongs to no manager.

Not modelled: the LimitRanger plugin (a namespace's LimitRanges defaulting and bounding container
resources), mirror pods' restrictions, mountable-secret enforcement.
"""

from __future__ import annotations

from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.store.buckets import Buckets
from simulator.api.store.errors import ForbiddenError
from simulator.api.store.rules import name_suffix

__all__ = ["admit_pod"]

Obj = dict[str, Any]
_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
_VOLUME_PREFIX = "kube-api-access-"
_MIRROR = "kubernetes.io/config.mirror"


def _token_volume(name: str) -> Obj:
    """TokenVolumeSource(), in the Go structs' field order."""
    return {
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {
                    "configMap": {
                        "name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
            "defaultMode": 420,
        },
    }


def _mount_token(spec: Obj) -> None:
    """mountServiceAccountToken: a container with nothing at the path mounts the volume (an
    existing `kube-api-access-*` one, else a new one)."""
    volumes = [v for v in spec.get("volumes") or [] if isinstance(v, dict)]
    existing = next(
        (v["name"] for v in volumes if str(v.get("name", "")).startswith(_VOLUME_PREFIX)), None
    )
    name = existing or _VOLUME_PREFIX + name_suffix()
    needed = False
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        mounts = container.get("volumeMounts") or []
        if not any(m.get("mountPath") == _ACCOUNT_MOUNT_PATH for m in mounts):
            mount = {"name": name, "readOnly": True, "mountPath": _ACCOUNT_MOUNT_PATH}
            container["volumeMounts"] = [*mounts, mount]
            needed = True
    if needed and existing is None:
        spec.setdefault("volumes", []).append(_token_volume(name))


def admit_pod(buckets: Buckets, info: KindInfo, pod: Obj, *, strict: bool) -> None:
    """Admit a new object of `info` as the plugin does (only Pods concern it); ForbiddenError for
    an API create whose account does not exist (the world's own writes are not refused)."""
    meta = pod["metadata"]
    if (info.group, info.kind) != ("", "Pod") or _MIRROR in (meta.get("annotations") or {}):
        return
    spec = pod.setdefault("spec", {})
    account_name = str(spec.get("serviceAccountName") or "default")
    spec["serviceAccountName"] = spec["serviceAccount"] = account_name
    namespace = str(meta.get("namespace", ""))
    account = buckets.of_resource("", "serviceaccounts").get((namespace, account_name))
    if account is None and strict:
        name = str(meta.get("name", ""))
        raise ForbiddenError(
            f'pods "{name}" is forbidden: error looking up service account '
            f'{namespace}/{account_name}: serviceaccount "{account_name}" not found',
            name=name,
            kind="pods",
        )
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = (account or {}).get("automountServiceAccountToken")
    if automount is not False:
        _mount_token(spec)
    pulls = (account or {}).get("imagePullSecrets") or []
    if not spec.get("imagePullSecrets") and pulls:
        spec["imagePullSecrets"] = [{"name": str(s.get("name", ""))} for s in pulls]
