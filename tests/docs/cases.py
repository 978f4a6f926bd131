"""A document's test cases: its `## ` sections, each after the document's set-up blocks.

The sections of the user guide are independent (each starts its own world and stops it), so
each is a case of its own and pytest-xdist runs them side by side; within a case the blocks run
in order, as written, in one shell (tests/docs/blocks.py states the convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.docs.blocks import Block, parse_blocks

__all__ = ["DocCase", "document_cases", "every_case"]

# `appliance-sim control-plane` or `--backend control-plane`: a case that starts a real control
# plane runs in a control plane lane (tests/scheduling.py).
_CONTROL_PLANE = re.compile(r"appliance-sim\s+control-plane\b|--backend\s+control-plane\b")


def _anchor(title: str) -> str:
    """The section's link anchor, as GitHub makes it: `6. Run a scenario` -> `6-run-a-scenario`."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


@dataclass(frozen=True)
class DocCase:
    """One section of a document with the document's set-up blocks before it."""

    doc: Path
    section: str  # '' when every runnable block of the document is set-up
    blocks: tuple[Block, ...]

    @property
    def id(self) -> str:
        """`user-guide.md#1-run-a-scenario`: the section's address in the rendered docs."""
        return f"{self.doc.name}#{_anchor(self.section)}" if self.section else self.doc.name

    @property
    def starts_a_control_plane(self) -> bool:
        return any(b.runs and _CONTROL_PLANE.search(b.body) for b in self.blocks)


def _has_commands(blocks: list[Block]) -> bool:
    return any(block.runs and block.info != "yaml" for block in blocks)


def document_cases(path: Path) -> list[DocCase]:
    """The cases of `path` in document order: one per section that runs a command, or one for
    the whole document when only its set-up does."""
    blocks = parse_blocks(path)
    setup = [b for b in blocks if b.section == ""]
    sections = list(dict.fromkeys(b.section for b in blocks if b.section))
    cases = [
        DocCase(path, section, (*setup, *(b for b in blocks if b.section == section)))
        for section in sections
        if _has_commands([b for b in blocks if b.section == section])
    ]
    if not cases and _has_commands(setup):
        cases.append(DocCase(path, "", tuple(setup)))
    return cases


def every_case(docs: Path) -> list[DocCase]:
    """The cases of every document in the folder `docs`, by file name."""
    return [case for path in sorted(docs.glob("*.md")) for case in document_cases(path)]
