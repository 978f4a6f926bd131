"""Component identification: label, then `app`, then name prefix (DESIGN.md)."""

from __future__ import annotations

import pytest

from appliance.components import BOOTSTRAP_COMPONENT, component_of, tier_of


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("db-0", "db"),
        ("redis-0", "redis"),
        ("alga-core-sebastian-bootstrap-r1-x7k2p", BOOTSTRAP_COMPONENT),
        ("alga-core-sebastian-bootstrap-r1", BOOTSTRAP_COMPONENT),
        ("workflow-worker-7f9c6d8b5-r8t4w", "workflow-worker"),
        ("temporal-worker-6c4b8d7f9-p5s6d", "temporal-worker"),
        ("temporal-ui-5d8f7c9b6-xk2lp", "temporal-ui"),
        ("temporal-66c8d5f9b7-ab3cd", "temporal"),
        ("alga-core-sebastian-6f7d9c8b4-q2w3e", "alga-core"),
        ("coredns-7db6d8ff4d-abcde", "coredns"),
        ("local-path-provisioner-0", "local-path-provisioner"),
    ],
)
def test_component_by_name_prefix(name: str, expected: str) -> None:
    """Without labels the name prefix identifies the component."""
    assert component_of({"metadata": {"name": name}}) == expected


def test_label_wins_over_name() -> None:
    """`app.kubernetes.io/name` beats the name prefix."""
    obj = {
        "metadata": {"name": "web-5d9f-abcde", "labels": {"app.kubernetes.io/name": "alga-core"}}
    }
    assert component_of(obj) == "alga-core"


def test_app_label_second() -> None:
    """`app` is read when `app.kubernetes.io/name` is absent."""
    assert component_of({"metadata": {"name": "x-0", "labels": {"app": "redis"}}}) == "redis"


def test_job_name_label_marks_bootstrap_pods() -> None:
    """Pods of the bootstrap Job are the bootstrap component even with the app's labels."""
    obj = {
        "metadata": {
            "name": "anything-abcde",
            "labels": {
                "app.kubernetes.io/name": "alga-core",
                "job-name": "alga-core-x-bootstrap-r2",
            },
        }
    }
    assert component_of(obj) == BOOTSTRAP_COMPONENT


def test_unknown_label_does_not_hide_known_name() -> None:
    """A chart label like `postgresql` does not hide db-0 from the core tier."""
    assert component_of({"metadata": {"name": "db-0", "labels": {"app": "postgresql"}}}) == "db"


def test_tiers_of_components() -> None:
    """Known components map to their tier; unknown ones by namespace."""
    assert tier_of("db") == "core"
    assert tier_of(BOOTSTRAP_COMPONENT) == "bootstrap"
    assert tier_of("alga-core") == "login"
    assert tier_of("workflow-worker") == "background"
    assert tier_of("appliance-status") == "platform"
    assert tier_of("coredns", namespace="kube-system") == "platform"
    assert tier_of("something", namespace="msp") == "background"


def test_component_of_garbage_is_none() -> None:
    """Objects without metadata have no component."""
    assert component_of({}) is None
    assert component_of({"metadata": "nope"}) is None
