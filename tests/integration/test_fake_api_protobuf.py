"""Issue 12, gap 6: kubectl's typed `create` commands post protobuf; the fake API reads them.

The schemas are generated from k8s.io/api's generated.proto files
(simulator/api/protobuf_schema.py), so every built-in kind decodes as kube-apiserver decodes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.served_world import served_world, wait_for

EMPTY = """
name: empty
speed: 60
objects: [{apiVersion: v1, kind: Namespace, metadata: {name: shop}}]
"""


def test_kubectl_create_commands_send_protobuf_and_the_objects_arrive_whole(
    tmp_path: Path,
) -> None:
    """Deployment, Job, Service, Role, RoleBinding, ClusterRole, CronJob, PDB, Ingress, quota."""
    with served_world(tmp_path, EMPTY) as (world, api):
        commands = [
            ("deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80"),
            ("job", "once", "--image=busybox:1.36", "--", "echo", "hi"),
            ("service", "clusterip", "web", "--tcp=80:8080"),
            ("role", "reader", "--verb=get,list", "--resource=pods"),
            ("rolebinding", "reader", "--role=reader", "--serviceaccount=shop:default"),
            ("clusterrole", "nodes", "--verb=get", "--resource=nodes"),
            ("cronjob", "tick", "--image=busybox:1.36", "--schedule=*/5 * * * *"),
            ("poddisruptionbudget", "web", "--selector=app=web", "--min-available=1"),
            ("ingress", "web", "--rule=shop.example/*=web:80"),
            ("quota", "small", "--hard=pods=10"),
            ("priorityclass", "high", "--value=1000"),
        ]
        for command in commands:
            scope = [] if command[0] in ("clusterrole", "priorityclass") else ["-n", "shop"]
            api.kubectl(*scope, "create", *command)
        creates = [r for r in api.server.requests(verb="create") if r.status == 201]
        assert len(creates) >= len(commands)

        def get(*args: str) -> dict:
            return json.loads(api.kubectl("get", *args, "-o", "json").stdout)

        deployment = get("deployment", "web", "-n", "shop")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert deployment["spec"]["replicas"] == 2
        assert container["image"] == "nginx:1.27"
        assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
        assert deployment["spec"]["selector"] == {"matchLabels": {"app": "web"}}
        service = get("service", "web", "-n", "shop")
        assert service["spec"]["ports"][0]["port"] == 80
        assert service["spec"]["ports"][0]["targetPort"] == 8080
        job = get("job", "once", "-n", "shop")
        assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
        role = get("role", "reader", "-n", "shop")
        assert role["rules"] == [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
        ]
        binding = get("rolebinding", "reader", "-n", "shop")
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "default", "namespace": "shop"}
        ]
        budget = get("poddisruptionbudget", "web", "-n", "shop")
        assert budget["spec"]["minAvailable"] == 1
        ingress = get("ingress", "web", "-n", "shop")
        assert ingress["spec"]["rules"][0]["host"] == "shop.example"
        assert get("resourcequota", "small", "-n", "shop")["spec"]["hard"] == {"pods": "10"}
        assert get("priorityclass", "high")["value"] == 1000
        wait_for(lambda: world.ready("Deployment", "web", "shop") or None, what="web ready")


def test_a_protobuf_body_of_an_unknown_kind_is_a_415_that_says_send_json(tmp_path: Path) -> None:
    """A kind the schemas do not describe gets the API server's 415, not a crash."""
    from simulator.api.protobuf import ProtobufError, decode_protobuf_object

    unknown_kind = (
        b"k8s\x00\n\x18\n\x0eexample.com/v1\x12\x06Gadget\x12\x00"  # Unknown{typeMeta, raw=""}
    )
    with pytest.raises(ProtobufError, match=r"kind Gadget are not supported; send JSON"):
        decode_protobuf_object(unknown_kind)
