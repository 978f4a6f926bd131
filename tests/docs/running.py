"""Running a document's blocks in one shell, in order, and splitting what each block printed."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.docs.blocks import Block

__all__ = ["GUIDE_DIR", "DocumentRun", "run_document"]

GUIDE_DIR = "/tmp/guide"
_MARK = "@@docs-block "


@dataclass(frozen=True)
class DocumentRun:
    """What a document's script printed, block by block, and how it ended."""

    exit_code: int
    outputs: dict[str, str]
    last_block: str
    log: str


def _heredoc(tag: str, text: str) -> str:
    return f"<<'{tag}'\n{text}\n{tag}"


def _script(blocks: list[Block], guide: Path) -> str:
    """One bash script: every runnable block, each announced by a marker line."""

    def local(text: str) -> str:
        return text.replace(GUIDE_DIR, str(guide))

    parts = ["exec 2>&1", "set -euo pipefail"]
    for index, block in enumerate(blocks):
        if not block.runs:
            continue
        parts.append(f"echo {shlex.quote(_MARK + str(index))}")
        if block.file_path is not None:
            target = local(block.file_path)
            parts.append(f"mkdir -p {shlex.quote(str(Path(target).parent))}")
            parts.append(f"cat > {shlex.quote(target)} " + _heredoc("__DOCS_FILE__", block.body))
        elif block.info == "python":
            parts.append('"$DOCS_PYTHON" - ' + _heredoc("__DOCS_PYTHON__", local(block.body)))
        elif block.info == "console":
            for step, (command, _expected) in enumerate(block.session):
                if command is None:
                    continue
                parts.append(f"echo {shlex.quote(f'{_MARK}{index}.{step}')}")
                # A session may show a failing command (exit 2 and its message): its output is
                # what the test checks, not its exit code.
                parts.append(f"{local(command)} || true")
        else:
            parts.append(local(block.body))
    parts.append(f"echo {shlex.quote(_MARK + 'end')}")
    return "\n".join(parts) + "\n"


def _split(log: str) -> tuple[dict[str, str], str]:
    outputs: dict[str, str] = {}
    current = "start"
    lines: list[str] = []
    for line in log.splitlines():
        if line.startswith(_MARK):
            outputs[current] = "\n".join(lines)
            current = line[len(_MARK) :].strip()
            lines = []
        else:
            lines.append(line)
    outputs[current] = "\n".join(lines)
    return outputs, current


def run_document(blocks: list[Block], *, root: Path, workdir: Path, timeout: float) -> DocumentRun:
    """Run the blocks at the repository root; every process they start is stopped afterwards."""
    guide = workdir / "guide"
    guide.mkdir(parents=True, exist_ok=True)
    script = workdir / "document.sh"
    script.write_text(_script(blocks, guide), encoding="utf-8")
    log_path = workdir / "document.log"
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        "DOCS_PYTHON": sys.executable,
    }
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            ["bash", "--noprofile", "--norc", str(script)],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = -1
        finally:
            _stop_group(process)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    outputs, last = _split(text)
    return DocumentRun(exit_code=code, outputs=outputs, last_block=last, log=text)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """A failed block may leave a served world running in the background: end the whole group."""
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The shell is gone; give its background children the same grace.
        if not _group_alive(process.pid):
            return
        _wait_group(process.pid, wait)
        if not _group_alive(process.pid):
            return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_group(pgid: int, seconds: float) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.1)
