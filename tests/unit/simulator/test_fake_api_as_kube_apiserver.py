"""What `appliance-sim fidelity` found the fake API answering differently from kube-apiserver v1.37
(issue 13), each fixed and kept so here without a control plane."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulator.api.discovery import version_info
from simulator.api.store import ObjectStore
from simulator.api.store.errors import StoreError
from simulator.clock import VirtualClock
from simulator.replay.scripting import clean


def test_version_reports_emulation_and_compatibility_since_1_33() -> None:
    """kube-apiserver 1.33+ emulates its own version and stays compatible with the one before;
    the field's 1.31 appliance reported neither."""
    info = version_info("v1.37.2")
    assert (info["emulationMajor"], info["emulationMinor"]) == ("1", "37")
    assert (info["minCompatibilityMajor"], info["minCompatibilityMinor"]) == ("1", "36")
    assert list(info)[:6] == [
        "major",
        "minor",
        "emulationMajor",
        "emulationMinor",
        "minCompatibilityMajor",
        "minCompatibilityMinor",
    ]
    assert "emulationMajor" not in version_info("v1.31.4")


def test_a_created_deployment_has_an_empty_status_and_the_service_account_alias() -> None:
    """A built-in status is a Go struct, encoded even when empty; the v1 conversion copies
    serviceAccountName into the deprecated serviceAccount, in templates too."""
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"serviceAccountName": "status", "containers": [{"name": "c", "image": "x"}]},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
        "status": {"replicas": 3},
    }
    created = store.create(deployment, strict=True)
    assert created["status"] == {}
    assert created["spec"]["template"]["spec"]["serviceAccount"] == "status"
    config = store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    assert "status" not in config


def test_a_created_job_gets_the_selector_kube_apiserver_generates() -> None:
    """Unless spec.manualSelector, the Job strategy labels the pod template with the job's
    name and uid and selects on the uid (`kubectl logs job/x` finds the pods by it); the Job's
    own labels, when it has none, are its template's. A recording drops what the uid made."""
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "seed", "namespace": "msp"},
        "spec": {"template": {"metadata": {"labels": {"app": "seed"}}, **template}},
    }
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "msp"}})
    created = store.create(job, strict=True)
    uid = created["metadata"]["uid"]
    generated = {
        "app": "seed",
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "seed",
        "controller-uid": uid,
        "job-name": "seed",
    }
    assert created["spec"]["template"]["metadata"]["labels"] == generated
    assert created["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}
    }
    assert created["spec"]["manualSelector"] is False
    assert created["metadata"]["labels"] == generated
    recorded = clean(created)
    assert "selector" not in recorded["spec"]
    assert uid not in str(recorded["spec"]["template"]) + str(recorded["metadata"])
    manual = {
        **job,
        "metadata": {"name": "manual", "namespace": "msp", "labels": {"own": "x"}},
        "spec": {
            "manualSelector": True,
            "selector": {"matchLabels": {"app": "seed"}},
            "template": {"metadata": {"labels": {"app": "seed"}}, **template},
        },
    }
    kept = store.create(manual, strict=True)
    assert kept["spec"]["selector"] == {"matchLabels": {"app": "seed"}}
    assert kept["spec"]["template"]["metadata"]["labels"] == {"app": "seed"}
    assert kept["metadata"]["labels"] == {"own": "x"}
    assert clean(kept)["spec"]["selector"] == {"matchLabels": {"app": "seed"}}


def test_metadata_is_refused_in_kube_apiservers_words() -> None:
    """Labels, annotations and an update's identity (the messages are v1.37's, as a real
    control plane gave them; test_fake_api_vs_apiserver_refusals.py compares them live)."""
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "msp"}})

    def refusal(**metadata: object) -> str:
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", **metadata}}
        with pytest.raises(StoreError) as refused:
            store.create({**cm, "metadata": {**cm["metadata"], "namespace": "msp"}}, strict=True)
        return str(refused.value.status()["message"])

    assert refusal(labels={"k": "x" * 64}) == (
        'ConfigMap "c" is invalid: metadata.labels: Invalid value: "' + "x" * 64 + '": must be '
        "no more than 63 bytes"
    )
    assert refusal(labels={"p/": "v"}).startswith(
        'ConfigMap "c" is invalid: [metadata.labels: Invalid value: "p/": name part must be '
        'non-empty, metadata.labels: Invalid value: "p/": name part must consist of '
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex"
    )
    assert refusal(annotations={"a": "x" * 262_200}) == (
        'ConfigMap "c" is invalid: metadata.annotations: Too long: may not be more than 262144 '
        "bytes"
    )
    kept = store.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "k", "namespace": "msp"}},
        strict=True,
    )
    with pytest.raises(StoreError) as renamed:
        store.patch(
            "v1", "ConfigMap", "k", {"metadata": {"name": "r"}}, "merge", "msp", strict=True
        )
    assert renamed.value.status()["message"] == (
        "the name of the object (r) does not match the name on the URL (k)"
    )
    with pytest.raises(StoreError) as other_uid:
        store.patch("v1", "ConfigMap", "k", {"metadata": {"uid": "u"}}, "merge", "msp", strict=True)
    assert (other_uid.value.code, other_uid.value.status()["message"]) == (
        422,
        'ConfigMap "k" is invalid: metadata.uid: Invalid value: "u": field is immutable',
    )
    replaced = {**kept, "metadata": {**kept["metadata"], "uid": "u", "resourceVersion": ""}}
    with pytest.raises(StoreError) as precondition:
        store.replace(replaced, strict=True)
    assert precondition.value.code == 409
    assert "Precondition failed: UID in precondition: u" in precondition.value.status()["message"]
