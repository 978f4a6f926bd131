"""The columns kube-apiserver v1.37 puts in the Tables `kubectl get` asks for, per kind.

Names, types, formats, priorities and descriptions as k8s.io/kubernetes v1.37.2 defines them
(`pkg/printers/internalversion/printers.go`; a description is the documentation of the field the
column shows, as the API server sends it). The cells are `tables.py`'s; a kind without an entry
gets Name and Age.
"""

from __future__ import annotations

__all__ = ["AGE", "COLUMNS", "CONTAINERS", "IMAGES", "NAME", "Column"]

# (name, type, format, priority, description)
Column = tuple[str, str, str, int, str]

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating "
    "resources, although some resources may allow a client to request the "
    "generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. "
    "More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
    ""
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this "
    "object was created. It is not guaranteed to be set in happens-before order "
    "across separate operations. Clients may not set this value. It is "
    "represented in RFC3339 form and is in UTC.\n\nPopulated by the system. "
    "Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventi"
    "ons.md#metadata"
)
NAME: Column = ("Name", "string", "name", 0, _NAME_DOC)
CONTAINERS: Column = ("Containers", "string", "", 1, "Names of each container in the template.")
IMAGES: Column = ("Images", "string", "", 1, "Images referenced by each container in the template.")
AGE: Column = ("Age", "string", "", 0, _AGE_DOC)
_WORKLOAD_TAIL = (AGE, CONTAINERS, IMAGES)


def _priority_one(name: str, description: str) -> Column:
    """A string column `kubectl get` shows only with `-o wide`."""
    return (name, "string", "", 1, description)


COLUMNS: dict[tuple[str, str], tuple[Column, ...]] = {
    ("", "configmaps"): (
        NAME,
        (
            "Data",
            "string",
            "",
            0,
            "Data contains the configuration data. Each key must consist of alphanumeric "
            "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use "
            "the BinaryData field. The keys stored in Data must not overlap with the "
            "keys in the BinaryData field, this is enforced during validation process.",
        ),
        AGE,
    ),
    ("", "secrets"): (
        NAME,
        (
            "Type",
            "string",
            "",
            0,
            "Used to facilitate programmatic handling of secret data. More info: "
            "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
        ),
        (
            "Data",
            "string",
            "",
            0,
            "Data contains the secret data. Each key must consist of alphanumeric "
            "characters, '-', '_' or '.'. The serialized form of the secret data is a "
            "base64 encoded string, representing the arbitrary (possibly non-string) "
            "data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
        ),
        AGE,
    ),
    ("", "services"): (
        NAME,
        (
            "Type",
            "string",
            "",
            0,
            "type determines how the Service is exposed. Defaults to ClusterIP. Valid "
            "options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "
            '"ClusterIP" allocates a cluster-internal IP address for load-balancing to '
            "endpoints. Endpoints are determined by the selector or if that is not "
            "specified, by manual construction of an Endpoints object or EndpointSlice "
            'objects. If clusterIP is "None", no virtual IP is allocated and the '
            "endpoints are published as a set of endpoints rather than a virtual IP. "
            '"NodePort" builds on ClusterIP and allocates a port on every node which '
            'routes to the same endpoints as the clusterIP. "LoadBalancer" builds on '
            "NodePort and creates an external load-balancer (if supported in the current "
            'cloud) which routes to the same endpoints as the clusterIP. "ExternalName" '
            "aliases this service to the specified externalName. Several other fields do "
            "not apply to ExternalName services. More info: "
            "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-s"
            "ervices-service-types",
        ),
        (
            "Cluster-IP",
            "string",
            "",
            0,
            "clusterIP is the IP address of the service and is usually assigned "
            "randomly. If an address is specified manually, is in-range (as per system "
            "configuration), and is not in use, it will be allocated to the service; "
            "otherwise creation of the service will fail. This field may not be changed "
            "through updates unless the type field is also being changed to ExternalName "
            "(which requires this field to be blank) or the type field is being changed "
            "from ExternalName (in which case this field may optionally be specified, as "
            'describe above).  Valid values are "None", empty string (""), or a valid IP '
            'address. Setting this to "None" makes a "headless service" (no virtual IP), '
            "which is useful when direct endpoint connections are preferred and proxying "
            "is not required.  Only applies to types ClusterIP, NodePort, and "
            "LoadBalancer. If this field is specified when creating a Service of type "
            "ExternalName, creation will fail. This field will be wiped when updating a "
            "Service to type ExternalName. More info: "
            "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-"
            "and-service-proxies",
        ),
        (
            "External-IP",
            "string",
            "",
            0,
            "externalIPs is a list of IP addresses for which nodes in the cluster will "
            "also accept traffic for this service.  These IPs are not managed by "
            "Kubernetes.  The user is responsible for ensuring that traffic arrives at a "
            "node with this IP.  A common example is external load-balancers that are "
            "not part of the Kubernetes system.",
        ),
        (
            "Port(s)",
            "string",
            "",
            0,
            "The list of ports that are exposed by this service. More info: "
            "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-"
            "and-service-proxies",
        ),
        AGE,
        (
            "Selector",
            "string",
            "",
            1,
            "Route service traffic to pods with label keys and values matching this "
            "selector. If empty or not present, the service is assumed to have an "
            "external process managing its endpoints, which Kubernetes will not modify. "
            "Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if "
            "type is ExternalName. More info: "
            "https://kubernetes.io/docs/concepts/services-networking/service/",
        ),
    ),
    ("", "serviceaccounts"): (
        NAME,
        AGE,
    ),
    ("", "namespaces"): (
        NAME,
        ("Status", "string", "", 0, "The status of the namespace"),
        AGE,
    ),
    ("", "pods"): (
        NAME,
        (
            "Ready",
            "string",
            "",
            0,
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        ("Status", "string", "", 0, "The aggregate status of the containers in this pod."),
        (
            "Restarts",
            "string",
            "",
            0,
            "The number of times the containers in this pod have been restarted and when "
            "the last container in this pod has restarted.",
        ),
        AGE,
        (
            "IP",
            "string",
            "",
            1,
            "podIP address allocated to the pod. Routable at least within the cluster. "
            "Empty if not yet allocated.",
        ),
        (
            "Node",
            "string",
            "",
            1,
            "NodeName indicates in which node this pod is scheduled. If empty, this pod "
            "is a candidate for scheduling by the scheduler defined in schedulerName. "
            "Once this field is set, the kubelet for this node becomes responsible for "
            "the lifecycle of this pod. This field should not be used to express a "
            "desire for the pod to be scheduled on a specific node. "
            "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node"
            "name",
        ),
        (
            "Nominated Node",
            "string",
            "",
            1,
            "nominatedNodeName is set only when this pod preempts other pods on the "
            "node, but it cannot be scheduled right away as preemption victims receive "
            "their graceful termination periods. This field does not guarantee that the "
            "pod will be scheduled on this node. Scheduler may decide to place the pod "
            "elsewhere if other nodes become available sooner. Scheduler may also decide "
            "to give the resources on this node to a higher priority pod that is created "
            "after preemption. As a result, this field may be different than "
            "PodSpec.nodeName when the pod is scheduled.",
        ),
        (
            "Readiness Gates",
            "string",
            "",
            1,
            "If specified, all readiness gates will be evaluated for pod readiness. A "
            "pod is ready when all its containers are ready AND all conditions specified "
            'in the readiness gates have status equal to "True" More info: '
            "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
        ),
    ),
    ("apps", "deployments"): (
        NAME,
        ("Ready", "string", "", 0, "Number of the pod with ready state"),
        (
            "Up-to-date",
            "string",
            "",
            0,
            "Total number of non-terminating pods targeted by this deployment that have "
            "the desired template spec.",
        ),
        (
            "Available",
            "string",
            "",
            0,
            "Total number of available non-terminating pods (ready for at least "
            "minReadySeconds) targeted by this deployment.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        (
            "Selector",
            "string",
            "",
            1,
            "Label selector for pods. Existing ReplicaSets whose pods are selected by "
            "this will be the ones affected by this deployment. It must match the pod "
            "template's labels.",
        ),
    ),
    ("apps", "statefulsets"): (
        NAME,
        ("Ready", "string", "", 0, "Number of the pod with ready state"),
        AGE,
        CONTAINERS,
        IMAGES,
    ),
    ("batch", "jobs"): (
        NAME,
        ("Status", "string", "", 0, "Status of the job."),
        (
            "Completions",
            "string",
            "",
            0,
            "The number of pods which reached phase Succeeded. The value increases "
            "monotonically for a given spec. However, it may decrease in reaction to "
            "scale down of elastic indexed jobs.",
        ),
        ("Duration", "string", "", 0, "Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        (
            "Selector",
            "string",
            "",
            1,
            "A label query over pods that should match the pod count. Normally, the "
            "system sets this field for you. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#lab"
            "el-selectors",
        ),
    ),
    ("apps", "replicasets"): (
        NAME,
        (
            "Desired",
            "integer",
            "",
            0,
            "Replicas is the number of desired pods. This is a pointer to distinguish "
            "between explicit zero and unspecified. Defaults to 1. More info: "
            "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
        ),
        (
            "Current",
            "integer",
            "",
            0,
            "Replicas is the most recently observed number of non-terminating pods. More "
            "info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
        ),
        (
            "Ready",
            "integer",
            "",
            0,
            "The number of non-terminating pods targeted by this ReplicaSet with a Ready "
            "Condition.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        (
            "Selector",
            "string",
            "",
            1,
            "Selector is a label query over pods that should match the replica count. "
            "Label keys and values that must match in order to be controlled by this "
            "replica set. It must match the pod template's labels. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#lab"
            "el-selectors",
        ),
    ),
    ("", "replicationcontrollers"): (
        NAME,
        (
            "Desired",
            "integer",
            "",
            0,
            "Replicas is the number of desired replicas. This is a pointer to distinguish "
            "between explicit zero and unspecified. Defaults to 1. More info: "
            "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller"
            "#what-is-a-replicationcontroller",
        ),
        (
            "Current",
            "integer",
            "",
            0,
            "Replicas is the most recently observed number of replicas. More info: "
            "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller"
            "#what-is-a-replicationcontroller",
        ),
        (
            "Ready",
            "integer",
            "",
            0,
            "The number of ready replicas for this replication controller.",
        ),
        *_WORKLOAD_TAIL,
        _priority_one(
            "Selector",
            "Selector is a label query over pods that should match the Replicas count. If "
            "Selector is empty, it is defaulted to the labels present on the Pod template. "
            "Label keys and values that must match in order to be controlled by this "
            "replication controller, if empty defaulted to labels on Pod template. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#lab"
            "el-selectors",
        ),
    ),
    ("", "endpoints"): (
        NAME,
        (
            "Endpoints",
            "string",
            "",
            0,
            "The set of all endpoints is the union of all subsets. Addresses are placed into "
            "subsets according to the IPs they share. A single address with multiple ports, "
            "some of which are ready and some of which are not (because they come from "
            "different containers) will result in the address being displayed in different "
            "subsets for the different ports. No address will appear in both Addresses and "
            "NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a "
            "service.",
        ),
        AGE,
    ),
    ("", "persistentvolumeclaims"): (
        NAME,
        ("Status", "string", "", 0, "phase represents the current phase of PersistentVolumeClaim."),
        (
            "Volume",
            "string",
            "",
            0,
            "volumeName is the binding reference to the PersistentVolume backing this claim.",
        ),
        (
            "Capacity",
            "string",
            "",
            0,
            "capacity represents the actual resources of the underlying volume.",
        ),
        (
            "Access Modes",
            "string",
            "",
            0,
            "accessModes contains the actual access modes the volume backing the PVC "
            "has. More info: "
            "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"
            "",
        ),
        ("StorageClass", "string", "", 0, "StorageClass of the pvc"),
        ("VolumeAttributesClass", "string", "", 0, "VolumeAttributesClass of the pvc"),
        AGE,
        (
            "VolumeMode",
            "string",
            "",
            1,
            "volumeMode defines what type of volume is required by the claim. Value of "
            "Filesystem is implied when not included in claim spec.",
        ),
    ),
}
