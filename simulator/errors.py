"""Every error the simulator raises, under one root with an exit code and a one-line message.

`appliance-sim` prints `appliance-sim: <message>` and exits with the error's code; the fake
neighbours (`talosctl`, `flux`) keep their real tools' conventions (exit 1). The production
side has its own hierarchy (`appliance.errors`): the two never import each other.

    SimulatorError           exit 2: a scenario, flag or environment problem
    ├── ScenarioError        a scenario file (FILE:LINE: field: reason; also a ValueError)
    ├── YamlSyntaxError      malformed YAML with its line and column (also a ValueError)
    ├── WorldError           the world cannot do what was asked
    ├── AddressError         no free simulated node address
    ├── ApiServerError       the fake API could not start or stop
    ├── ProcessError         a simulated pod's process could not start
    ├── RecordingError       a real cluster cannot be recorded
    ├── ApiError             a request to a real cluster failed (`code`, `reason`)
    ├── FluxError            a Flux source cannot be read or rendered
    ├── StoreError           the fake API's store refused (a Kubernetes Status: `code`, `reason`)
    ├── PatchError, SelectorError, ProtobufError   a request the fake API answers 4xx
    ├── BinaryError, ControlPlaneError, TokenError the real control plane: not built, not
    │                                              started, or no token (simulator.controlplane)
    └── TalosApiError, TalosctlError, FluxCliError the fake neighbours' failures (exit 1)
"""

from __future__ import annotations

# Every fake CLI run (a fresh interpreter) imports this module, and `typing` costs a few ms of
# such a start: annotations name it only under this flag, which mypy reads as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

__all__ = ["SimulatorError"]


class SimulatorError(Exception):
    """The root of the simulator's errors; the message says what failed and what to do."""

    exit_code: ClassVar[int] = 2

    def one_line(self) -> str:
        """The message on one line (a quoted tool output may span several)."""
        lines = [line.strip() for line in str(self).splitlines() if line.strip()]
        return " / ".join(lines) or type(self).__name__
