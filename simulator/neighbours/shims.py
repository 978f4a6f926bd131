"""Executable shims for the fake `talosctl` and `flux`, for a bin dir put first on PATH.

The bootstrapper runs `talosctl ...` and `flux ...` by name; each shim execs this interpreter on
the simulator's module, with the world's settings (apid port, installer image) in its env.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["TOOLS", "write_shims"]

TOOLS = {"talosctl": "simulator.neighbours.talosctl", "flux": "simulator.neighbours.fluxctl"}
# The directory that holds the `simulator` package (the source tree of an editable install).
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def write_shims(bin_dir: Path, *, env: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Write `talosctl` and `flux` into `bin_dir`; returns tool name -> path.

    `env` is exported by each shim, e.g. `{"SIM_TALOS_INSTALLER_IMAGE": spec.installer_image}`.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    exports = "".join(
        f"export {name}={shlex.quote(value)}\n" for name, value in sorted((env or {}).items())
    )
    # A shim runs for every poll (a warped install runs ~20): skip `site` (-S), whose .pth
    # processing (the editable install's finder) is a fifth of a run, and name the import path
    # it would have built: this source tree, then the interpreter's own path.
    path_entries = [str(_SOURCE_ROOT), *(p for p in sys.path if p and os.path.exists(p))]
    python_path = shlex.quote(os.pathsep.join(dict.fromkeys(path_entries)))
    written: dict[str, Path] = {}
    for tool, module in TOOLS.items():
        path = bin_dir / tool
        # `-c` rather than `-m`: runpy (and the importlib.util it imports) is ~1 ms of each run.
        code = shlex.quote(f"import sys; from {module} import main; sys.exit(main())")
        path.write_text(
            f"#!/bin/sh\n{exports}PYTHONPATH={python_path} "
            f'exec {shlex.quote(sys.executable)} -S -c {code} "$@"\n'
        )
        path.chmod(0o755)
        written[tool] = path
    return written
