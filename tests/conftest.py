"""Settings every test shares."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_docker_login(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Registry clients (and the commands tests start) never read the developer's Docker login.

    A test that needs credentials writes its own config and points DOCKER_CONFIG at it.
    """
    directory = tmp_path_factory.mktemp("docker-config")
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory
