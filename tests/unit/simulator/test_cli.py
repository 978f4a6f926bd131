"""`appliance-sim` conventions, and when `run --bootstrap` stops (an explicit --until wins)."""

from __future__ import annotations

import pytest

from simulator.bootstrapping import SETTLED_STATES
from simulator.cli import bootstrap_stop, main


def test_until_time_keeps_the_world_up_past_a_settled_state() -> None:
    """`--until 2h`: no state ends the run early (user guide section 5 smoke-tests after it)."""
    assert bootstrap_stop(7200.0, None, scenario_end=2700.0) == (None, 7200.0)


def test_until_state_stops_at_that_state() -> None:
    """`--until fully_healthy`: that state, or the scenario's end."""
    assert bootstrap_stop(None, "fully_healthy", scenario_end=2700.0) == ("fully_healthy", 2700.0)


def test_default_stops_at_the_first_settled_state() -> None:
    """No --until: the first settled state, or the scenario's end."""
    assert bootstrap_stop(None, None, scenario_end=2700.0) == (SETTLED_STATES, 2700.0)


def test_every_command_has_version_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """`appliance-sim [command] --version` prints the version; --help lists the exit codes."""
    for path in ([], ["run"], ["record"], ["replay"], ["completion"]):
        with pytest.raises(SystemExit) as exited:
            main([*path, "--version"])
        assert exited.value.code == 0
        assert capsys.readouterr().out.startswith("appliance-sim ")
        with pytest.raises(SystemExit):
            main([*path, "--help"])
        assert "exit codes:\n    0  done" in capsys.readouterr().out


def test_completion_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    """`appliance-sim completion bash` prints argcomplete's script for appliance-sim."""
    assert main(["completion", "bash"]) == 0
    assert "appliance-sim" in capsys.readouterr().out


def test_serve_help_lists_its_own_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """Serving ends only by Ctrl-C or SIGTERM: that is its 0, not an interruption's 130."""
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "exit codes:\n  0  stopped by Ctrl-C or SIGTERM" in capsys.readouterr().out


def test_control_plane_help_lists_its_own_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """Not the replay's: it ends 0 on Ctrl-C or SIGTERM, 1 when a component fails, 2 when
    the programs cannot be had."""
    with pytest.raises(SystemExit):
        main(["control-plane", "--help"])
    shown = capsys.readouterr().out
    assert "Start etcd, kube-apiserver" in shown
    assert "exit codes:\n  0  stopped by Ctrl-C or SIGTERM\n  1  a component" in shown
    assert "replay" not in shown.split("exit codes:")[1]
