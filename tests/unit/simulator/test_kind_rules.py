"""ConfigMap, Secret and Service content refused in kube-apiserver v1.37's words (each answer
as a real control plane gave it; test_fake_api_vs_apiserver_refusals.py compares some of them
live)."""

from __future__ import annotations

from simulator.api.store.kind_rules import content_errors, update_errors


def test_config_keys_and_a_key_in_both_maps() -> None:
    bad = {"data": {"bad key": "1", "..x": "2"}, "binaryData": {"..x": "MQ=="}}
    errors = content_errors("", "ConfigMap", bad)
    assert errors[0] == (
        'data[bad key]: Invalid value: "bad key": a valid config key must consist of '
        "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
        "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
    )
    assert "data[..x]: Invalid value: \"..x\": must not start with '..'" in errors
    assert errors[-1] == 'data[..x]: Invalid value: "..x": duplicate of key present in binaryData'


def test_a_secret_holds_the_keys_its_type_needs() -> None:
    tls = {"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}}
    assert content_errors("", "Secret", tls) == ["data[tls.key]: Required value"]
    basic = {"type": "kubernetes.io/basic-auth", "data": {}}
    assert content_errors("", "Secret", basic) == [
        "data[username]: Required value",
        "data[password]: Required value",
    ]
    assert content_errors("", "Secret", {"type": "Opaque", "data": {"a": "eA=="}}) == []


def test_a_service_needs_ports_named_in_range_and_a_known_type() -> None:
    assert content_errors("", "Service", {"spec": {}}) == ["spec.ports: Required value"]
    assert content_errors("", "Service", {"spec": {"clusterIP": "None"}}) == []
    two = {"spec": {"type": "Bogus", "ports": [{"port": 80}, {"port": 70000, "name": "b"}]}}
    assert content_errors("", "Service", two) == [
        "spec.ports[0].name: Required value",
        "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        'spec.type: Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", '
        '"LoadBalancer", "NodePort"',
    ]


def test_an_immutable_configmap_keeps_its_data_and_its_flag() -> None:
    live = {"data": {"a": "1"}, "immutable": True}
    forbidden = "Forbidden: field is immutable when `immutable` is set"
    assert update_errors("", "ConfigMap", live, {"data": {"a": "2"}, "immutable": True}) == [
        f"data: {forbidden}"
    ]
    assert update_errors("", "ConfigMap", live, {"data": {"a": "1"}}) == [f"immutable: {forbidden}"]
    assert update_errors("", "ConfigMap", {"data": {"a": "1"}}, {"data": {"a": "2"}}) == []
