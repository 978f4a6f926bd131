"""Sources the fake API builds from, fetched as Go modules and kept in a cache, never committed.

The protobuf schemas (`protobuf_schema`) and the OpenAPI documents and CRDs (`openapi_assets`)
come from the Kubernetes and Flux Go modules: `go mod download` fetches them through the Go
module proxy (a no-op when the module cache has them) and says where each one is unpacked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from simulator.errors import SimulatorError

__all__ = ["ModuleError", "cache_dir", "download"]


class ModuleError(SimulatorError):
    """A Go module could not be fetched; the message says which and why."""


def cache_dir() -> Path:
    """Where generated and extracted tools live: $SIM_CACHE_DIR, else ~/.cache/appliance-sim."""
    configured = os.environ.get("SIM_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "appliance-sim"


def download(wanted: list[str], *, purpose: str) -> dict[str, Path]:
    """`module@version` -> the folder `go mod download` unpacked it into."""
    go = shutil.which("go")
    if go is None:
        raise ModuleError(f"{purpose} needs Go on PATH (go.dev)")
    result = subprocess.run(
        [go, "mod", "download", "-json", *wanted],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on"},
        cwd=tempfile.gettempdir(),
    )
    dirs: dict[str, Path] = {}
    decoder = json.JSONDecoder()
    text, index = result.stdout, 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        info, index = decoder.raw_decode(text, index)
        if info.get("Error"):
            raise ModuleError(f"go mod download {info.get('Path')}: {info['Error']}")
        dirs[f"{info['Path']}@{info['Version']}"] = Path(str(info["Dir"]))
    if set(dirs) != set(wanted):
        raise ModuleError(f"go mod download failed: {result.stderr.strip()[-300:]}")
    return dirs
