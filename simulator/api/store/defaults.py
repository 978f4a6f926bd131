"""The fields kube-apiserver fills in on create that clients print or rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.clock import rfc3339

__all__ = ["fill_defaults"]

_service_ip_counter = [0]


def fill_defaults(info: KindInfo, obj: dict[str, Any], now: datetime) -> None:
    """The few defaults a real API server fills in that clients print or rely on."""
    if info.group == "" and info.kind == "Namespace":
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj.setdefault("status", {"phase": "Active"})
    elif info.group == "" and info.kind == "Pod":
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", "BestEffort")
        spec = obj.setdefault("spec", {})
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("enableServiceLinks", True)
    elif info.group == "" and info.kind == "Service":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        if spec["type"] != "ExternalName" and "clusterIP" not in spec:
            _service_ip_counter[0] += 1
            n = _service_ip_counter[0]
            spec["clusterIP"] = f"10.96.{(n // 250) % 250}.{n % 250 + 1}"
            spec["clusterIPs"] = [spec["clusterIP"]]
    elif info.group == "apiextensions.k8s.io":
        names = (obj.get("spec") or {}).get("names") or {}
        obj["status"] = {
            "acceptedNames": names,
            "storedVersions": [
                v.get("name")
                for v in (obj.get("spec") or {}).get("versions") or []
                if v.get("storage")
            ],
            "conditions": [
                {
                    "type": t,
                    "status": "True",
                    "lastTransitionTime": rfc3339(now),
                    "reason": r,
                    "message": m,
                }
                for t, r, m in (
                    ("NamesAccepted", "NoConflicts", "no conflicts found"),
                    ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                )
            ],
        }
