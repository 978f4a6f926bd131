"""Every command block in docs/ runs, in order, as written, and prints what the docs show.

The convention is in tests/docs/blocks.py (docs/architecture.md points writers there). One test per
`## ` section of a document (tests/docs/cases.py), after the document's set-up blocks; a case's
blocks share one shell, so `export`, `SIM=$!` and files carry over from block to block exactly as
they do for a reader who pastes them in turn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.blocks import Block, match_output, parse_blocks
from tests.docs.cases import DocCase, every_case
from tests.docs.running import GUIDE_DIR, run_document

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
# Blocks that cannot run here (a real appliance, minutes of benchmarks): keep this short.
MAX_NOT_RUN = 6
# Wall seconds one case may take (the user guide's section 6 runs two control planes).
DOCUMENT_TIMEOUT = 1200.0
CASES = every_case(ROOT / "docs")


def _checks(blocks: list[Block]) -> list[tuple[str, Block, str | None]]:
    """(output id, console block, command) for every expected output in the document."""
    checks: list[tuple[str, Block, str | None]] = []
    previous: int | None = None
    for index, block in enumerate(blocks):
        if block.info == "console" and block.skip_reason is None:
            for step, (command, _expected) in enumerate(block.session):
                if command is not None:
                    checks.append((f"{index}.{step}", block, command))
                else:
                    assert previous is not None, f"{block.where}: output of no block"
                    assert blocks[previous].runs, (
                        f"{block.where}: output shown for a block that is not run; mark it "
                        "`<!-- docs-test: not run: REASON -->` too"
                    )
                    checks.append((str(previous), block, None))
        if block.runs and block.info in ("bash", "sh", "python"):
            previous = index
    return checks


def test_the_not_run_list_is_short() -> None:
    """Only a few blocks are exempt, each with its reason (printed with -rA)."""
    exempt = [
        f"{block.where}: {block.skip_reason}"
        for path in DOCS
        for block in parse_blocks(path)
        if block.skip_reason is not None
    ]
    print("\n".join(["blocks not run:", *exempt]))
    assert len(exempt) <= MAX_NOT_RUN, exempt


def test_every_block_runs_in_exactly_one_case() -> None:
    """Splitting documents into cases leaves no block out and runs none twice: a section's
    blocks are in its case only, the set-up blocks (before the first `## `) in every case."""
    for path in DOCS:
        cases = [case for case in CASES if case.doc == path]
        for block in parse_blocks(path):
            if not block.runs:
                continue
            holding = [case.id for case in cases if block in case.blocks]
            if block.section == "" and len(cases) > 1:
                assert len(holding) == len(cases), f"{block.where}: set-up missing in a case"
            else:
                assert len(holding) == 1, f"{block.where} runs in {holding or 'no case'}"


@pytest.mark.timeout(DOCUMENT_TIMEOUT + 120)
# A case that starts a real control plane runs in a control plane lane (tests/scheduling.py).
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_document_runs_as_written(case: DocCase, tmp_path: Path) -> None:
    """The case's blocks run in one shell without an error and print what the document shows."""
    blocks = list(case.blocks)
    checks = _checks(blocks)
    run = run_document(blocks, root=ROOT, workdir=tmp_path, timeout=DOCUMENT_TIMEOUT)
    last = run.last_block.split(".")[0]
    failed_at = blocks[int(last)].where if last.isdigit() else run.last_block
    assert run.exit_code == 0, (
        f"{case.id}: the block at {failed_at} failed (exit {run.exit_code}); its output:\n"
        + run.outputs.get(run.last_block, "")[-4000:]
    )
    guide = str(tmp_path / "guide")
    for output_id, block, command in checks:
        for shown_command, expected in block.session:
            if shown_command != command:
                continue
            localised = type(expected)(
                tuple(line.replace(GUIDE_DIR, guide) for line in expected.lines)
            )
            printed = run.outputs.get(output_id, "")
            missing = match_output(localised, printed)
            assert missing is None, (
                f"{block.where}: `{command or 'the block before'}` did not print\n  {missing}\n"
                f"it printed:\n{printed[-4000:]}"
            )
