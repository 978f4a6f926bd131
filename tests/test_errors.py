"""One error hierarchy per package, and CLIs that turn it into one line and an exit code."""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil

import pytest

import appliance
import simulator
import status_web
from appliance import cli as appliance_cli
from appliance.errors import ApplianceError, BootstrapError, ClusterError, TokenError
from simulator.errors import SimulatorError
from status_web import cli as status_cli
from status_web.errors import StatusWebError


def public_errors(package: object) -> list[type[BaseException]]:
    """Every public exception class defined in `package` or its modules."""
    found: dict[str, type[BaseException]] = {}
    path = getattr(package, "__path__", [])
    prefix = getattr(package, "__name__", "") + "."
    for info in pkgutil.walk_packages(path, prefix):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
                and not name.startswith("_")
            ):
                found[f"{info.name}.{name}"] = value
    return list(found.values())


@pytest.mark.parametrize(
    ("package", "root"),
    [(appliance, ApplianceError), (status_web, StatusWebError), (simulator, SimulatorError)],
    ids=["appliance", "status_web", "simulator"],
)
def test_every_public_error_has_the_package_root(package: object, root: type) -> None:
    """Catching the root catches every error the package raises on purpose."""
    errors = public_errors(package)
    assert errors, "no error classes found: the walk is broken"
    strays = [f"{e.__module__}.{e.__name__}" for e in errors if not issubclass(e, root)]
    assert strays == []


def test_each_error_carries_an_exit_code_and_one_line() -> None:
    """A multi-line tool output quoted in a message still prints as one line."""
    error = BootstrapError(
        "talosctl failed:\n  line one\n  line two", layer="host", next_action="x"
    )
    assert error.exit_code == 1
    assert error.one_line() == "talosctl failed: / line one / line two"
    assert TokenError("t").exit_code == 2
    assert issubclass(StatusWebError, ApplianceError)


def test_appliance_main_turns_our_errors_into_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """appliance/cli.py's promise: an ApplianceError from any subcommand is one line, no trace."""

    def failing(_: argparse.Namespace) -> int:
        raise TokenError("status token /x/status-token is not UTF-8 text\nsecond line")

    args = appliance_cli.build_parser().parse_args(["reset", "--dry-run"])
    args.handler = failing
    monkeypatch.setattr(appliance_cli, "build_parser", lambda: _Fixed(args))
    code = appliance_cli.main(["reset", "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("appliance reset: status token /x/status-token is not UTF-8 text")
    assert "Traceback" not in err


class _Fixed:
    """A parser stand-in that answers with `args` (whose handler fails)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args

    def parse_args(self, _argv: object) -> argparse.Namespace:
        return self._args


@pytest.mark.parametrize(
    "error", [ClusterError("cannot reach https://10.0.0.1:6443"), KeyboardInterrupt()]
)
def test_appliance_status_main_turns_any_appliance_error_into_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: BaseException
) -> None:
    """`appliance-status` as well: not only its own errors, Ctrl-C before serving too."""

    def failing(_: argparse.Namespace) -> int:
        raise error

    args = status_cli.build_parser().parse_args(["serve"])
    args.handler = failing
    monkeypatch.setattr(status_cli, "build_parser", lambda: _Fixed(args))
    code = status_cli.main(["serve"])
    err = capsys.readouterr().err
    assert code == (130 if isinstance(error, KeyboardInterrupt) else 2)
    assert err.count("\n") == 1
    assert err.startswith("appliance-status: ")
