"""The command blocks of a Markdown document, and how the docs test runs and checks them.

The convention (docs/architecture.md, "Tests", points writers here):

- A ```` ```bash ````, ```` ```sh ```` or ```` ```python ```` block is run, in document order, in
  one shell per document started at the repository root with `.venv/bin` first on PATH (as the
  user guide asks the reader to do). `set -euo pipefail` holds: a command that fails, fails the
  test.
- A ```` ```console ```` block shows a session: each `$ command` line is run, and the lines after
  it are its expected output. A console block without any `$` line is the expected output of the
  shell block right before it.
- Expected output is matched line by line, in order, as a subsequence of what was printed: digit
  runs stand for any number (addresses, durations and counts differ from run to run), runs of
  spaces for any spacing, the names Kubernetes generates (`web-gntxmgnmtj-nlsv5`: a template
  hash and a random suffix) for any such names, and a line `...` for lines left out.
- A ```` ```yaml ```` block whose first line is `# /tmp/guide/NAME` is that file: it is written
  before the next block runs.
- `/tmp/guide` is the reader's scratch directory; the test gives each run its own, so parallel
  runs never share files.
- Each `## ` section is a test case of its own, run in a shell of its own (each section of the
  user guide starts its own world): the blocks before the document's first `## ` heading (the
  set-up: `export PATH=...`) run first in every case, then the section's blocks in order. A
  section's blocks may use what an earlier block of the same section did, never what another
  section did (tests/docs/cases.py).
- A block that cannot run here (it needs a real appliance, or takes minutes on purpose) has the
  line `<!-- docs-test: not run: REASON -->` right before its fence. The test keeps that list
  short and prints it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Block",
    "ConventionError",
    "Expected",
    "match_output",
    "parse_blocks",
]

RUNNABLE = {"bash", "sh", "python", "console"}
SKIP_MARK = re.compile(r"^<!--\s*docs-test:\s*not run:\s*(?P<reason>.*?)\s*-->\s*$")
FILE_HEADER = re.compile(r"^#\s*(?P<path>/tmp/guide/\S+)\s*$")
FENCE = re.compile(r"^```(?P<info>[\w+-]*)\s*$")
ELLIPSIS = "..."


class ConventionError(ValueError):
    """A document breaks the convention (unclosed fence, a skip mark without a reason)."""


@dataclass(frozen=True)
class Expected:
    """Lines a command (or the previous block) must print, in order; `...` skips lines."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Block:
    """One fenced block: what it is, where it starts, and what to do with it."""

    path: Path
    line: int
    info: str
    body: str
    skip_reason: str | None = None
    # console blocks: (command, expected output) pairs; a block of output only has command None.
    session: tuple[tuple[str | None, Expected], ...] = field(default=())
    # yaml blocks that are files: where they go.
    file_path: str | None = None
    # The `## ` heading the block is under ('' before the first one: the document's set-up).
    section: str = ""

    @property
    def where(self) -> str:
        """`docs/user-guide.md:42` for messages."""
        return f"{self.path.name}:{self.line}"

    @property
    def runs(self) -> bool:
        """True when the test runs (or writes) this block."""
        if self.skip_reason is not None:
            return False
        return self.info in RUNNABLE or self.file_path is not None


def _console_session(body: str) -> tuple[tuple[str | None, Expected], ...]:
    session: list[tuple[str | None, list[str]]] = []
    for raw in body.splitlines():
        if raw.startswith("$ "):
            session.append((raw[2:].strip(), []))
        elif session:
            session[-1][1].append(raw.rstrip())
        else:
            session.append((None, [raw.rstrip()]))
    return tuple((command, Expected(tuple(lines))) for command, lines in session)


def parse_blocks(path: Path) -> list[Block]:
    """Every fenced block of `path`, with its convention applied."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    section = ""
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            if lines[index].startswith("## "):
                section = lines[index][3:].strip()
            index += 1
            continue
        start = index
        info = fence.group("info")
        end = start + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end >= len(lines):
            raise ConventionError(f"{path.name}:{start + 1}: a ``` fence is never closed")
        body = "\n".join(lines[start + 1 : end])
        skip = None
        previous = lines[start - 1] if start > 0 else ""
        if "docs-test" in previous:
            mark = SKIP_MARK.match(previous)
            if mark is None or not mark.group("reason"):
                raise ConventionError(
                    f"{path.name}:{start}: write `<!-- docs-test: not run: REASON -->` "
                    "with a reason"
                )
            skip = mark.group("reason")
        file_header = FILE_HEADER.match(body.splitlines()[0]) if body and info == "yaml" else None
        blocks.append(
            Block(
                path=path,
                line=start + 1,
                info=info,
                body=body,
                skip_reason=skip,
                session=_console_session(body) if info == "console" else (),
                file_path=file_header.group("path") if file_header else None,
                section=section,
            )
        )
        index = end + 1
    return blocks


# Kubernetes' generated name parts (a ReplicaSet's template hash, a pod's random suffix) use
# this alphabet; they change whenever a pod template does, so a doc shows one for any.
_GENERATED_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_TOKEN = re.compile(
    rf"(?P<generated>(?<=-)(?=[2456789]*[{_GENERATED_ALPHABET[:20]}])"
    rf"(?:[{_GENERATED_ALPHABET}]{{10}}|[{_GENERATED_ALPHABET}]{{5}})(?![a-z0-9]))"
    r"|(?P<number>\d+)|(?P<space>\s+)"
)


def _pattern(expected: str) -> re.Pattern[str]:
    """Digits stand for any number, spacing for any spacing, a generated name suffix for any
    such suffix of its length; the rest is literal."""
    parts = []
    text = expected.strip()
    position = 0
    for token in _TOKEN.finditer(text):
        parts.append(re.escape(text[position : token.start()]))
        if token.group("generated"):
            parts.append(f"[{_GENERATED_ALPHABET}]{{{len(token.group())}}}")
        elif token.group("number"):
            parts.append(r"\d+")
        else:
            parts.append(r"\s+")
        position = token.end()
    parts.append(re.escape(text[position:]))
    return re.compile("".join(parts))


def match_output(expected: Expected, output: str) -> str | None:
    """None when `output` shows every expected line in order; else the first line missing."""
    printed = [line.strip() for line in output.splitlines()]
    position = 0
    for wanted in expected.lines:
        if wanted.strip() in ("", ELLIPSIS):
            continue
        pattern = _pattern(wanted)
        while position < len(printed) and not pattern.fullmatch(printed[position]):
            position += 1
        if position == len(printed):
            return wanted
        position += 1
    return None
