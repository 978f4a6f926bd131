"""One pod's process: its snapshot, what starts it again, and the OS-level helpers.

`ProcessRunner` (processes.py) decides when a Deployment's process starts, restarts and stops;
this module holds what it keeps per pod (`PodProcess`, the restart plan, the live handle with
its warped-world lease) and the few things done to a process: write its token file, probe its
/healthz, end it with its whole process group.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import SimulatorError
from simulator.lifecycle import terminate_group as terminate
from simulator.neighbours.clock_endpoint import Participant

__all__ = [
    "Live",
    "Plan",
    "PodProcess",
    "ProcessError",
    "leave",
    "pod_key",
    "terminate",
]

Obj = dict[str, Any]


class ProcessError(SimulatorError):
    """A pod process could not be started."""


@dataclass(frozen=True)
class PodProcess:
    """A snapshot of one Deployment's process."""

    namespace: str
    name: str
    image: str
    argv: tuple[str, ...]
    pid: int | None
    ready: bool
    restarts: int
    exit_code: int | None
    log_path: Path
    # Why no process runs (kubelet reasons: CreateContainerConfigError, RunContainerError).
    waiting_reason: str = ""
    waiting_message: str = ""


@dataclass(frozen=True)
class Plan:
    """Everything needed to (re)start one pod's process."""

    image: str
    argv: tuple[str, ...]
    env: dict[str, str]
    workdir: Path
    port: int
    health_path: str
    fingerprint: str  # the pod template it was started from: a change restarts it
    token_ref: tuple[str, str] = ("", "")  # (Secret, key) materialised as token_file
    token_file: Path | None = None


@dataclass
class Live:
    snapshot: PodProcess
    process: subprocess.Popen[bytes] | None
    plan: Plan
    restart_at: float | None = None
    log_handle: Any = field(default=None)
    # In a warped world: the process's lease; it also holds a token until the first /healthz.
    participant: Participant | None = None
    starting: bool = True


def pod_key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or "default"), str(meta.get("name") or "")


def leave(live: Live) -> None:
    """The process is gone: its lease no longer holds the clock."""
    if live.participant is not None:
        live.participant.close()
        live.participant = None
