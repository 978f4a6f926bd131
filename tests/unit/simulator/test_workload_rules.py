"""An apps/v1 workload's and a PersistentVolumeClaim's spec refused in kube-apiserver v1.37's
words (as a real control plane gave them; test_fake_api_vs_apiserver_refusals.py compares some
live)."""

from __future__ import annotations

from simulator.api.store.workload_rules import errors_after_template, spec_errors

TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}


def test_a_selector_is_required_and_must_match() -> None:
    assert spec_errors("apps", "Deployment", {"spec": {"template": TEMPLATE}}) == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not '
        "match template `labels`",
    ]
    by_expression = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}
    spec = {"selector": by_expression, "template": TEMPLATE}
    assert spec_errors("apps", "ReplicaSet", {"spec": spec}) == []


def test_replicas_and_a_deployment_strategy() -> None:
    spec = {"selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE}
    assert spec_errors("apps", "Deployment", {"spec": {**spec, "replicas": -1}}) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    ]
    bogus = {"spec": {**spec, "strategy": {"type": "Bogus"}}}
    assert spec_errors("apps", "Deployment", bogus) == []  # checked after the template's
    assert errors_after_template("apps", "Deployment", bogus) == [
        'spec.strategy: Unsupported value: {"Type":"Bogus","RollingUpdate":null}: supported '
        'values: "Recreate", "RollingUpdate"'
    ]


def test_a_claim_needs_an_access_mode_and_a_storage_request() -> None:
    assert spec_errors("", "PersistentVolumeClaim", {"spec": {}}) == [
        "spec.accessModes: Required value: at least 1 access mode is required",
        "spec.resources[storage]: Required value",
    ]
    bogus = {"spec": {"accessModes": ["Bogus"], "resources": {"requests": {"storage": "1Gi"}}}}
    assert spec_errors("", "PersistentVolumeClaim", bogus) == [
        'spec.accessModes: Unsupported value: "Bogus": supported values: "ReadOnlyMany", '
        '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'
    ]
