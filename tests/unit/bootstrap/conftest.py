"""Shared helpers for bootstrapper unit tests: parsed options and a scripted talosctl."""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.bootstrap.flags import BootstrapOptions, add_bootstrap_arguments, options_from_args

BASE = ["--release-version", "1.0-rc5", "--node-ip", "192.0.2.10"]


def parse(*argv: str) -> argparse.Namespace:
    """Parse bootstrap flags exactly as the CLI does."""
    parser = argparse.ArgumentParser()
    add_bootstrap_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def options_for(tmp_path: Path) -> Callable[..., BootstrapOptions]:
    """Build validated options with a temporary config dir."""

    def build(*extra: str) -> BootstrapOptions:
        return options_from_args(parse(*BASE, "--config-dir", str(tmp_path), *extra))

    return build


class ScriptedTalosctl:
    """A subprocess.run stand-in: records argv, answers by the talosctl subcommand."""

    def __init__(self, answers: dict[str, list[tuple[int, str]]] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.answers = answers or {}

    def __call__(self, argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        self.calls.append(argv)
        words = [a for a in argv[1:] if not a.startswith("-")]
        key = " ".join(words[:2]) if words[:1] == ["gen"] else (words[0] if words else "")
        if argv[1] == "--talosconfig":
            key = argv[3]
        queue = self.answers.get(key) or [(0, "")]
        code, text = queue.pop(0) if len(queue) > 1 else queue[0]
        if key == "gen config" and code == 0:
            out = Path(argv[argv.index("--output-dir") + 1])
            out.mkdir(parents=True, exist_ok=True)
            (out / "controlplane.yaml").write_text(
                "version: v1alpha1\nmachine:\n  type: controlplane\n  ca: {crt: abc}\n"
            )
            (out / "talosconfig").write_text("context: new\n")
        if key == "kubeconfig" and code == 0:
            Path(argv[4]).write_text("apiVersion: v1\nclusters: []\n")
        return subprocess.CompletedProcess(argv, code, stdout=text, stderr="")

    def commands(self) -> list[str]:
        """The talosctl subcommands run, in order."""
        out = []
        for argv in self.calls:
            words = [a for a in argv[1:] if not a.startswith("-")]
            if argv[1] == "--talosconfig":
                words = [a for a in argv[3:] if not a.startswith("-")]
            out.append(" ".join(words[:2]) if words[:1] == ["gen"] else words[0])
        return out
