"""A pod's container log as `kubectl logs` asks for it, with the API server's checks."""

from __future__ import annotations

from simulator.api.store.errors import BadRequestError, NotFoundError
from simulator.api.store.protocol import Store

__all__ = ["pod_log"]


def pod_log(store: Store, namespace: str, pod: str, container: str | None = None) -> str:
    """The log of `container` (the pod's only container when None), checked as the API does."""
    pod_obj = store.get("v1", "Pod", pod, namespace)
    if pod_obj is None:
        raise NotFoundError(f'pods "{pod}" not found', name=pod, kind="pods")
    spec = pod_obj.get("spec") or {}
    names = [c.get("name") for c in spec.get("containers") or []]
    if container is None:
        if len(names) > 1:
            raise BadRequestError(
                f"a container name must be specified for pod {pod}, choose one of: {names}"
            )
        container = str(names[0]) if names else ""
    elif names and container not in names + [
        c.get("name") for c in spec.get("initContainers") or []
    ]:
        raise BadRequestError(
            f"container {container} is not valid for pod {pod}", name=pod, kind="pods"
        )
    return store.logs.text(namespace, pod, container)
