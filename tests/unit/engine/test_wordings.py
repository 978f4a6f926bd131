"""Every detector recognises at least two real wordings of its failure (issue 10, item 6).

The messages are the upstream ones, not paraphrases: Go's resolver (`lookup X on Y:53: ...`), the
kubelet (`kubelet_pods.go`, the image puller, the node status), containerd and CRI-O pull errors,
Temporal's server, YAML and strconv decoders, the Job and Deployment controllers, Flux's
controllers. The last test checks the table covers every registered layer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.blockers import registered
from appliance.canonical import ApplianceStatus
from tests.fixtures import (
    CORE_IMAGE,
    MSG_DNS_GIT,
    MSG_DNS_PULL,
    MSG_HELM_TIMEOUT,
    MSG_SERVICE_LINK,
    MSG_SUBPATH,
    MSG_TEMPORAL_SCHEMA,
    Appliance,
    canceled_pull_message,
    missing_tag_message,
)
from tests.unit.engine.wording_bends import (
    WORKFLOW_IMAGE,
    api_down,
    bootstrap_failed,
    claim_failing,
    core_pull_failure,
    crash_log,
    db_config_error,
    flux,
    foreign,
    node_down,
    other_job_failed,
    pull_failure,
    refused_pods,
    rollout_timed_out,
    status_service,
    unknown_warning,
    unschedulable,
    waiting,
)


def _evaluate(appliance: Appliance) -> ApplianceStatus:
    appliance.app_refuses()
    return appliance.evaluate()


# (layer, bend, a distinctive piece of the blocker's reason)
WORDINGS: list[tuple[str, Callable[[Appliance], None], str]] = [
    (
        "Kubernetes API",
        api_down(
            "HTTPSConnectionPool(host='192.168.64.8', port=6443): Max retries exceeded with url: "
            "/api/v1/nodes (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection "
            "object>: Failed to establish a new connection: [Errno 111] Connection refused'))"
        ),
        "Connection refused",
    ),
    (
        "Kubernetes API",
        api_down("Kubernetes API at https://192.168.64.8:6443 unreachable: timed out"),
        "timed out",
    ),
    ("Platform DNS resolution", core_pull_failure(MSG_DNS_PULL), "connection refused"),
    (
        "Platform DNS resolution",
        flux("GitRepository", "alga-psa", "GitOperationFailed", MSG_DNS_GIT),
        "server misbehaving",
    ),
    (
        "Platform DNS resolution",
        core_pull_failure(
            f'Failed to pull image "{CORE_IMAGE}": rpc error: code = Unknown desc = failed to '
            f'pull and unpack image "{CORE_IMAGE}": failed to resolve reference "{CORE_IMAGE}": '
            'failed to do request: Head "https://ghcr.io/v2/nine-minds/alga-psa-ee/manifests/'
            '94446747": dial tcp: lookup ghcr.io on 127.0.0.53:53: no such host'
        ),
        "no such host",
    ),
    (
        "Platform DNS resolution",
        core_pull_failure(
            f'Failed to pull image "{CORE_IMAGE}": rpc error: code = Unknown desc = failed to '
            f'pull and unpack image "{CORE_IMAGE}": failed to resolve reference "{CORE_IMAGE}": '
            'failed to do request: Head "https://ghcr.io/v2/nine-minds/alga-psa-ee/manifests/'
            '94446747": dial tcp: lookup ghcr.io on 10.96.0.10:53: read udp '
            "10.244.0.17:41234->10.96.0.10:53: i/o timeout"
        ),
        "i/o timeout",
    ),
    ("Core Postgres storage initialization", db_config_error(MSG_SUBPATH), "create subPath"),
    (
        "Core Postgres storage initialization",
        db_config_error(
            'failed to prepare subPath for volumeMount "db-data" of container "postgres"'
        ),
        "prepare subPath",
    ),
    ("Image tag availability", pull_failure(missing_tag_message(WORKFLOW_IMAGE)), "not found"),
    (
        "Image tag availability",
        pull_failure(
            f'Failed to pull image "{WORKFLOW_IMAGE}": rpc error: code = Unknown desc = failed to '
            f'pull and unpack image "docker.io/{WORKFLOW_IMAGE}": failed to resolve reference '
            f'"{WORKFLOW_IMAGE}": pull access denied, repository does not exist or may require '
            "authorization: server message: insufficient_scope: authorization failed"
        ),
        "pull access denied",
    ),
    (
        "Image tag availability",
        pull_failure(
            f'Failed to pull image "{WORKFLOW_IMAGE}": rpc error: code = Unknown desc = reading '
            "manifest 61e4a00e in ghcr.io/nine-minds/workflow-worker: manifest unknown"
        ),
        "not found",
    ),
    (
        "Image pull interruption",
        pull_failure(canceled_pull_message(WORKFLOW_IMAGE)),
        "interrupted",
    ),
    (
        "Image pull interruption",
        pull_failure(
            f'Failed to pull image "{WORKFLOW_IMAGE}": rpc error: code = DeadlineExceeded desc = '
            f'failed to pull and unpack image "{WORKFLOW_IMAGE}": failed to resolve reference '
            f'"{WORKFLOW_IMAGE}": failed to do request: Head "https://ghcr.io/v2/nine-minds/'
            'workflow-worker/manifests/61e4a00e": dial tcp 140.82.112.33:443: i/o timeout'
        ),
        "interrupted",
    ),
    (
        "Image pull interruption",
        pull_failure(
            f'Failed to pull image "{WORKFLOW_IMAGE}": rpc error: code = Unknown desc = failed to '
            f'pull and unpack image "{WORKFLOW_IMAGE}": failed to copy: read tcp '
            "10.0.2.15:51234->140.82.112.33:443: read: connection reset by peer"
        ),
        "interrupted",
    ),
    ("Temporal schema initialization", crash_log("temporal", MSG_TEMPORAL_SCHEMA), "autosetup"),
    (
        "Temporal schema initialization",
        crash_log(
            "temporal",
            "sql schema version compatibility check failed: version mismatch for "
            'keyspace/database: "temporal". Expected version: 1.13 cannot be greater than '
            "Actual version: 1.12",
        ),
        "version mismatch",
    ),
    (
        "Temporal schema initialization",
        crash_log(
            "temporal",
            "sql schema version compatibility check failed: unable to read DB schema version "
            'keyspace/database: temporal_visibility error: pq: relation "schema_version" does '
            "not exist",
        ),
        "autosetup",
    ),
    (
        "Kubernetes service-link environment collision",
        crash_log("temporal-ui", MSG_SERVICE_LINK),
        "tcp://",
    ),
    (
        "Kubernetes service-link environment collision",
        crash_log(
            "temporal-ui",
            "Error: 1 error(s) decoding:\n\n* cannot parse 'port' as int: strconv.ParseInt: "
            'parsing "tcp://10.97.3.207:80": invalid syntax',
        ),
        "tcp://",
    ),
    (
        "Kubernetes service-link environment collision",
        crash_log(
            "workflow-worker",
            'panic: strconv.Atoi: parsing "tcp://10.43.12.7:6379": invalid syntax',
        ),
        "tcp://",
    ),
    (  # the replicaset controller's words; the real control plane judge wrote them
        "Pod admission",
        refused_pods(
            "pgbouncer",
            "ReplicaSet",
            "pgbouncer-5d4f8b7c9",
            'Error creating: pods "pgbouncer-5d4f8b7c9-" is forbidden: error looking up service '
            'account msp/pgbouncer: serviceaccount "pgbouncer" not found',
        ),
        "ServiceAccount pgbouncer does not exist",
    ),
    (  # the statefulset controller's, with Pod Security admission's
        "Pod admission",
        refused_pods(
            "redis",
            "StatefulSet",
            "redis",
            'Create Pod redis-0 in StatefulSet redis failed error: pods "redis-0" is forbidden: '
            'violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)',
        ),
        "Pod Security admission refuses them",
    ),
    (  # ResourceQuota admission's, on a Deployment's ReplicaSet
        "Pod admission",
        refused_pods(
            "pgbouncer",
            "ReplicaSet",
            "pgbouncer-5d4f8b7c9",
            'Error creating: pods "pgbouncer-5d4f8b7c9-x2v7q" is forbidden: exceeded quota: '
            "msp-pods, requested: pods=1, used: pods=10, limited: pods=10",
        ),
        "ResourceQuota is used up",
    ),
    (
        "Kubernetes node",
        node_down(
            "container runtime network not ready: NetworkReady=false "
            "reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not "
            "initialized"
        ),
        "cni plugin",
    ),
    (
        "Kubernetes node",
        node_down("PLEG is not healthy: pleg was last seen active 3m10.2s ago; threshold is 3m0s"),
        "PLEG",
    ),
    (
        "Storage binding",
        claim_failing(
            'failed to provision volume with StorageClass "local-path": no such file or directory'
        ),
        "local-path",
    ),
    (
        "Storage binding",
        claim_failing('storageclass.storage.k8s.io "fast-ssd" not found'),
        "fast-ssd",
    ),
    (
        "Workload container",
        waiting("pgbouncer", "CreateContainerConfigError", 'secret "pgbouncer-auth" not found'),
        "pgbouncer-auth",
    ),
    (
        "Workload container",
        waiting(
            "pgbouncer",
            "CreateContainerConfigError",
            "couldn't find key db_user in Secret msp/alga-db-credentials",
        ),
        "db_user",
    ),
    (
        "Workload container",
        waiting(
            "redis",
            "CrashLoopBackOff",
            "back-off 5m0s restarting failed container=redis pod=redis-0_msp(uid)",
        ),
        "CrashLoopBackOff",
    ),
    (
        "Workload rollout",
        rollout_timed_out('ReplicaSet "alga-core-sebastian-6f7d9c8b4" has timed out progressing.'),
        "timed out",
    ),
    (
        "Workload rollout",
        rollout_timed_out('Deployment "alga-core-sebastian" has timed out progressing.'),
        "timed out",
    ),
    (
        "Bootstrap job",
        bootstrap_failed("Job has reached the specified backoff limit"),
        "backoff limit",
    ),
    (
        "Bootstrap job",
        bootstrap_failed("Job was active longer than specified deadline"),
        "deadline",
    ),
    ("Job", other_job_failed("Job has reached the specified backoff limit"), "backoff limit"),
    ("Job", other_job_failed("Job was active longer than specified deadline"), "deadline"),
    (
        "Pod scheduling",
        unschedulable(
            "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are "
            "available: 1 No preemption victims found for incoming pod."
        ),
        "Insufficient memory",
    ),
    (
        "Pod scheduling",
        unschedulable(
            "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
            "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        ),
        "unbound immediate",
    ),
    ("Status service", status_service(keep_namespace=False), "absent"),
    ("Status service", status_service(keep_namespace=True), "missing"),
    (
        "Flux source",
        flux(
            "GitRepository",
            "alga-psa",
            "GitOperationFailed",
            "failed to checkout and determine revision: unable to clone "
            "'https://github.com/nine-minds/alga-psa': authentication required",
        ),
        "authentication required",
    ),
    (
        "Flux source",
        flux(
            "GitRepository",
            "alga-psa",
            "GitOperationFailed",
            "failed to checkout and determine revision: unable to list remote for "
            "'https://github.com/nine-minds/alga-psa-typo': repository not found",
        ),
        "repository not found",
    ),
    (
        "Flux reconciliation",
        flux(
            "Kustomization",
            "alga-background",
            "BuildFailed",
            "kustomize build failed: accumulating resources: open "
            "ee/appliance/flux/base/background/x.yaml: no such file or directory",
        ),
        "BuildFailed",
    ),
    (
        "Flux reconciliation",
        flux(
            "Kustomization",
            "alga-background",
            "ArtifactFailed",
            'GitRepository.source.toolkit.fluxcd.io "alga-psa" not found',
        ),
        "ArtifactFailed",
    ),
    (
        "Helm release",
        flux("HelmRelease", "temporal", "InstallFailed", MSG_HELM_TIMEOUT),
        "deadline",
    ),
    (
        "Helm release",
        flux(
            "HelmRelease",
            "temporal",
            "UpgradeFailed",
            "Helm upgrade failed for release msp/temporal with chart temporal@0.1.0: cannot patch "
            '"temporal" with kind Deployment: Deployment.apps "temporal" is invalid',
        ),
        "cannot patch",
    ),
    (
        "Object outside the appliance",
        foreign("gitops-engine/deployment-degraded.yaml"),
        "timed out",
    ),
    (
        "Object outside the appliance",
        foreign("gitops-engine/pod-crashloop.yaml"),
        "CrashLoopBackOff",
    ),
    ("Object outside the appliance", foreign("gitops-engine/job-failed.yaml"), "backoff limit"),
    (
        "Unclassified failure",
        unknown_warning(
            "FailedMount",
            'MountVolume.SetUp failed for volume "smtp-config" : configmap "email-smtp" not found',
        ),
        "email-smtp",
    ),
    (
        "Unclassified failure",
        unknown_warning(
            "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"
        ),
        "statuscode: 503",
    ),
]


@pytest.mark.parametrize(
    ("layer", "bend", "needle"), WORDINGS, ids=[f"{w[0]}-{i}" for i, w in enumerate(WORDINGS)]
)
def test_real_wording_is_recognised(
    layer: str, bend: Callable[[Appliance], None], needle: str
) -> None:
    """The wording lands in its layer, and the blocker's reason carries what it said."""
    appliance = Appliance.healthy()
    bend(appliance)
    status = _evaluate(appliance)
    found = [b for b in status.top_blockers if b.layer == layer]
    assert found, f"no {layer!r} blocker: {[(b.layer, b.reason) for b in status.top_blockers]}"
    assert any(needle.lower() in (b.reason + " " + b.next_action).lower() for b in found), found


def test_every_layer_has_two_real_wordings() -> None:
    """The table above names every registered layer at least twice."""
    counts: dict[str, int] = {}
    for layer, _, _ in WORDINGS:
        counts[layer] = counts.get(layer, 0) + 1
    assert {entry.layer for entry in registered()} == set(counts)
    assert min(counts.values()) >= 2, counts
