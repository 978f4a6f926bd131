"""The columns of kube-apiserver v1.37's node and event Tables (see `table_columns.py`)."""

from __future__ import annotations

from simulator.api.table_columns import AGE, NAME, Column

__all__ = ["CLUSTER_COLUMNS"]

_ADDRESSES_DOC = (
    "List of addresses reachable to the node. Queried from cloud provider, if "
    "available. More info: "
    "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This "
    "field is declared as mergeable, but the merge key is not sufficiently "
    "unique, which can cause data corruption when it is merged. Callers should "
    "instead use a full-replacement patch. See https://pr.k8s.io/79391 for an "
    "example. Consumers should assume that addresses can change during the "
    "lifetime of a Node. However, there are some exceptions where this may not "
    "be possible, such as Pods that inherit a Node's address in its own status "
    "or consumers of the downward API (status.hostIP)."
)

CLUSTER_COLUMNS: dict[tuple[str, str], tuple[Column, ...]] = {
    ("", "nodes"): (
        NAME,
        ("Status", "string", "", 0, "The status of the node"),
        ("Roles", "string", "", 0, "The roles of the node"),
        AGE,
        ("Version", "string", "", 0, "Kubelet Version reported by the node."),
        ("Internal-IP", "string", "", 1, _ADDRESSES_DOC),
        ("External-IP", "string", "", 1, _ADDRESSES_DOC),
        (
            "OS-Image",
            "string",
            "",
            1,
            "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 "
            "(wheezy)).",
        ),
        (
            "Kernel-Version",
            "string",
            "",
            1,
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        ),
        (
            "Container-Runtime",
            "string",
            "",
            1,
            "ContainerRuntime Version reported by the node through runtime remote API "
            "(e.g. containerd://1.4.2).",
        ),
    ),
    ("", "events"): (
        (
            "Last Seen",
            "string",
            "",
            0,
            "The time at which the most recent occurrence of this event was recorded.",
        ),
        (
            "Type",
            "string",
            "",
            0,
            "Type of this event (Normal, Warning), new types could be added in the future",
        ),
        (
            "Reason",
            "string",
            "",
            0,
            "This should be a short, machine understandable string that gives the reason "
            "for the transition into the object's current status.",
        ),
        ("Object", "string", "", 0, "The object that this event is about."),
        (
            "Subobject",
            "string",
            "",
            1,
            "If referring to a piece of an object instead of an entire object, this "
            "string should contain a valid JSON/Go field access statement, such as "
            "desiredState.manifest.containers[2]. For example, if the object reference "
            "is to a container within a pod, this would take on a value like: "
            '"spec.containers{name}" (where "name" refers to the name of the container '
            "that triggered the event) or if no container name is specified "
            '"spec.containers[2]" (container with index 2 in this pod). This syntax is '
            "chosen only to have some well-defined way of referencing a part of an "
            "object.",
        ),
        (
            "Source",
            "string",
            "",
            1,
            "The component reporting this event. Should be a short machine understandable string.",
        ),
        (
            "Message",
            "string",
            "",
            0,
            "A human-readable description of the status of this operation.",
        ),
        (
            "First Seen",
            "string",
            "",
            1,
            "The time at which the event was first recorded. (Time of server receipt is "
            "in TypeMeta.)",
        ),
        ("Count", "string", "", 1, "The number of times this event has occurred."),
        ("Name", "string", "name", 1, NAME[4]),
    ),
}
