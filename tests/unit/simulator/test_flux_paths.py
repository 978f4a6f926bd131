"""The fake `flux` finds its kinds without the kind table (it is a process per command, and the
table's import was a fifth of its start): its paths must be the ones the table serves."""

from __future__ import annotations

import pytest

from simulator.api.kind_table import FLUX_KINDS, known_kind
from simulator.api.kinds import CustomKind
from simulator.neighbours.flux_crds import flux_path, resource_path
from simulator.neighbours.fluxctl import flux_install_objects


@pytest.mark.parametrize(
    "obj", flux_install_objects(), ids=lambda o: f"{o['kind']}/{o['metadata']['name']}"
)
def test_every_object_flux_install_applies_goes_where_the_kind_table_serves_it(
    obj: dict[str, object],
) -> None:
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    info = known_kind(str(obj["kind"]))
    assert info is not None
    assert info.api_version == obj["apiVersion"]
    namespace = meta.get("namespace")
    assert resource_path(info.api_version, info.kind, namespace) == info.path(namespace)
    assert resource_path(info.api_version, info.kind, namespace, meta["name"]) == info.path(
        namespace, meta["name"]
    )


@pytest.mark.parametrize("custom", FLUX_KINDS, ids=lambda c: c.info.kind)
def test_flux_kinds_are_found_at_their_storage_version(custom: CustomKind) -> None:
    info = custom.info
    assert flux_path(info.kind, "flux-system", "x") == info.path("flux-system", "x")


def test_a_deployment_is_found_where_the_table_serves_it() -> None:
    info = known_kind("Deployment")
    assert info is not None
    assert resource_path("apps/v1", "Deployment", "ns", "d") == info.path("ns", "d")
