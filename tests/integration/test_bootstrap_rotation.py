"""Token rotation end to end, as issue 9 item 1 found it: the admin removes the site's token file
and reruns `appliance bootstrap --bootstrap-mode recover`. Within seconds the newly printed token
opens the running status service and the old one, and its session, no longer do."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from simulator.world.served import ServedWorld
from tests.integration.test_bootstrap_e2e import (  # noqa: F401 - happy_installed is a fixture
    appliance,
    bootstrap_args,
    happy_installed,
    secret,
)


def printed_token(output: str) -> str:
    found = re.search(r"^  Token +(\S+)$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def status_code(url: str, **kwargs: object) -> int:
    return httpx.get(url, timeout=5, **kwargs).status_code  # type: ignore[arg-type]


def test_removing_the_token_file_and_recovering_rotates_the_running_service(
    happy_installed: ServedWorld,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    world = happy_installed
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    assert world.kubeconfig_path is not None
    args = bootstrap_args(
        world,
        config_dir,
        "--bootstrap-mode",
        "recover",
        "--kubeconfig",
        str(world.kubeconfig_path),
    )
    first = appliance(world, *args)
    assert first.returncode == 0, first.stdout + first.stderr
    old = printed_token(first.stdout)
    overview = f"http://{world.node_ip}:8080/api/overview"
    login = httpx.post(
        f"http://{world.node_ip}:8080/login",
        data={"token": old, "next": "/"},
        follow_redirects=False,
        timeout=5,
    )
    assert login.status_code == 303
    session = login.cookies
    assert status_code(overview, cookies=session) == 200

    (config_dir / "appliance-single-node" / "status-token").unlink()
    second = appliance(world, *args)
    assert second.returncode == 0, second.stdout + second.stderr
    new = printed_token(second.stdout)
    assert new != old
    assert "the status token changed" in second.stdout
    assert secret(world, "appliance-system", "appliance-status-auth", "token") == new

    deadline = time.monotonic() + 10
    while status_code(overview, headers={"Authorization": f"Bearer {new}"}) != 200:
        assert time.monotonic() < deadline, "the new token was not accepted within 10 s"
        time.sleep(0.2)
    assert status_code(overview, headers={"Authorization": f"Bearer {old}"}) == 401
    assert status_code(overview, cookies=session) == 401
