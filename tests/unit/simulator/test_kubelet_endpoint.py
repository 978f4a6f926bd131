"""The control-plane node's kubelet endpoint (simulator/controlplane/node.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, cast

import pytest

from simulator.controlplane.node import KubeletEndpoint
from simulator.neighbours.addresses import choose_node_address


def test_its_serving_key_is_not_left_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The certificate and key are read into the TLS context at start; their folder goes at
    once (every judge's node used to leave one, key included, in the temporary directory)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    endpoint = KubeletEndpoint(cast(Any, None), choose_node_address()).start()
    try:
        assert list(tmp_path.iterdir()) == []
    finally:
        endpoint.stop()
