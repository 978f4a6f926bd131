"""What a command's start imports: help and bad flags must not pay for the HTTP, cluster or web
stacks that only a running command uses (each is a tenth of a second or more of CPU per process,
and the demo and the suite start hundreds of processes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# The heavy stacks, each imported where it is used: urllib3 by the registry client and the probes
# (appliance/plain_http.py) and by kubernetes on connecting, litestar/uvicorn/jinja2 by the status
# service's `serve`, docker_image (the image-reference grammar) with a release file; httpx by
# none of our processes.
HEAVY = ("httpx", "urllib3", "kubernetes", "litestar", "uvicorn", "jinja2", "docker_image")

_PROBE = """
import contextlib, io, json, sys
from {module} import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main({argv!r})
    except SystemExit:
        pass
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def _imported_after(module: str, argv: list[str]) -> set[str]:
    """The top-level packages imported by a fresh interpreter running `main(argv)`."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module, argv=argv)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(done.stdout))


@pytest.mark.parametrize(
    ("module", "argv"),
    [
        ("appliance.cli", ["--help"]),
        ("appliance.cli", ["bootstrap", "--help"]),
        ("appliance.cli", ["status", "--no-such-flag"]),
        ("appliance.cli", ["--version"]),
        ("status_web.cli", ["--help"]),
        ("status_web.cli", ["serve", "--help"]),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_help_and_bad_flags_import_no_heavy_stack(module: str, argv: list[str]) -> None:
    imported = _imported_after(module, argv)
    assert "appliance" in imported  # the probe ran the command
    assert not imported & set(HEAVY), f"{module} {argv} imported {sorted(imported & set(HEAVY))}"


def test_the_running_commands_load_one_http_stack() -> None:
    """What bootstrap, the status service and smoke run on imports urllib3 (the kubernetes
    client's transport) for plain HTTP, and not httpx as a second stack."""
    modules = ", ".join(
        (
            "appliance.bootstrap.running",
            "appliance.oci.client",
            "appliance.collecting",
            "appliance.smoke.monitor",
            "appliance.smoke.verify",
            "status_web.collecting",
        )
    )
    probe = f"import json, sys, {modules}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    imported = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert "urllib3" in imported
    assert "httpx" not in imported


def test_the_status_service_loads_jinja2_with_its_first_page() -> None:
    """Building the app imports no template engine; rendering a page does."""
    probe = (
        "import json, sys\n"
        "from status_web.app import create_app\n"
        "create_app(provider=object(), token='x' * 32)\n"
        "before = 'jinja2' in sys.modules\n"
        "from status_web.rendering import render_waiting\n"
        "render_waiting(here='/')\n"
        "print(json.dumps([before, 'jinja2' in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == [False, True]
