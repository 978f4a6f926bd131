"""The world's kustomize-controller applies as fluxcd/pkg/ssa's ApplyAllStaged does: CRDs,
Namespaces and ClusterRoles first, then `*Class` kinds, then the rest, each stage in Flux's
order and dry-run whole before any of it is applied, as a client of the API (a custom
resource's schema and the API server's rules hold). What the real controller does with the
same manifests is judged in tests/integration/test_control_plane_bootstrap.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from simulator.world.flux_apply import ApplyRejected, apply_objects
from simulator.world.flux_inventory import apply_order, inventory_entries
from simulator.world.objects import Objects
from tests.fixtures.health_checks import world_objects
from tests.fixtures.manifests import widget_crd

Obj = dict[str, Any]
KUSTOMIZATION = ("flux-system", "probe")
NAMESPACE: Obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "staged"}}
SETTINGS: Obj = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "staged"},
    "data": {"a": "1"},
}


def _widget(size: object) -> Obj:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "small", "namespace": "staged"},
        "spec": {"size": size},
    }


def _apply(objects: Objects, *docs: Obj) -> tuple[list[Obj], list[str]]:
    return apply_objects(objects, KUSTOMIZATION, copy.deepcopy(list(docs)))


def test_definitions_go_first_whatever_the_order_of_the_manifests() -> None:
    """A Widget listed before its CRD and a ConfigMap before its Namespace apply: the CRD and
    the Namespace are their own stage, before them."""
    objects = world_objects()
    crd = widget_crd({"size": {"type": "integer"}})
    applied, lines = _apply(objects, _widget(3), SETTINGS, NAMESPACE, crd)
    assert lines == [
        "CustomResourceDefinition/widgets.example.com created",
        "Namespace/staged created",
        "ConfigMap/staged/settings created",
        "Widget/staged/small created",
    ]
    ids = [entry["id"] for entry in inventory_entries(applied)]
    assert ids == [
        "_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition",
        "_staged__Namespace",
        "staged_settings__ConfigMap",
        "staged_small_example.com_Widget",
    ]
    _, again = _apply(objects, _widget(3), SETTINGS, NAMESPACE, crd)
    assert again == []  # unchanged objects have no line


def test_an_object_the_api_refuses_stops_its_whole_stage() -> None:
    """The Widget's string for an integer fails its dry run, so the valid ConfigMap beside it
    is not applied either; the CRD and Namespace of the stage before stay. The error is
    kustomize-controller's: the refused object's, then what changed before it."""
    objects = world_objects()
    crd = widget_crd({"size": {"type": "integer"}})
    with pytest.raises(ApplyRejected) as refused:
        _apply(objects, _widget("big"), SETTINGS, NAMESPACE, crd)
    assert str(refused.value) == (
        "Widget/staged/small dry-run failed: failed to create typed patch object (staged/small; "
        "example.com/v1, Kind=Widget): .spec.size: expected numeric (int or float), got string\n"
        "CustomResourceDefinition/widgets.example.com created\n"
        "Namespace/staged created\n"
    )
    assert objects.get("v1", "ConfigMap", "settings", "staged") is None
    assert objects.get("v1", "Namespace", "staged", None) is not None
    with pytest.raises(ApplyRejected) as again:
        _apply(objects, _widget("big"), SETTINGS, NAMESPACE, crd)
    assert str(again.value).endswith("got string\n")  # nothing changed before it this time


def test_a_refusal_is_said_with_the_api_servers_reason() -> None:
    """Typed but invalid: the schema's refusal, its reason in brackets (DryRunErr)."""
    objects = world_objects()
    crd = widget_crd({"size": {"type": "integer", "minimum": 1}})
    _apply(objects, NAMESPACE, crd)
    with pytest.raises(ApplyRejected) as refused:
        _apply(objects, _widget(0))
    assert str(refused.value) == (
        'Widget/staged/small dry-run failed (Invalid): Widget.example.com "small" is invalid: '
        "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1\n"
    )


def test_an_object_in_a_namespace_that_does_not_exist_is_not_found() -> None:
    """A client's apply into a missing Namespace is a 404 (the world's own writes would make
    the Namespace): DryRunErr's `not found`."""
    objects = world_objects()
    with pytest.raises(ApplyRejected) as refused:
        _apply(objects, SETTINGS)
    assert str(refused.value) == (
        'ConfigMap/staged/settings not found: namespaces "staged" not found\n'
    )
    assert objects.get("v1", "Namespace", "staged", None) is None


def test_class_kinds_are_a_stage_of_their_own() -> None:
    """A kind ending in Class comes after the definitions and before everything else, even
    one Flux's sort order does not name."""
    gadget_class = {"apiVersion": "example.com/v1", "kind": "GadgetClass", "metadata": {}}
    ordered = sorted([SETTINGS, gadget_class, NAMESPACE], key=apply_order)
    assert [doc["kind"] for doc in ordered] == ["Namespace", "GadgetClass", "ConfigMap"]
