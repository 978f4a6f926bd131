"""The docs convention itself: what runs, what is a file, what is skipped, how output matches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.blocks import ConventionError, Expected, match_output, parse_blocks
from tests.docs.running import run_document

ROOT = Path(__file__).resolve().parents[2]

DOC = """# A page

```bash
echo one
```

<!-- docs-test: not run: needs a real appliance -->
```bash
appliance bootstrap --node-ip <node-ip>
```

```yaml
# /tmp/guide/x.yaml
name: x
```

```yaml
name: not-a-file
```

```console
$ appliance-sim run /tmp/guide/x.yaml
   +00m00s  Normal  Started  pod/web  Started container web
...
replayed +20m00s
```

```console
wrote 58 objects
```
"""


def _blocks(tmp_path: Path, text: str = DOC) -> list:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return parse_blocks(page)


def test_blocks_are_classified(tmp_path: Path) -> None:
    """Shell blocks run, a marked block does not, a yaml block with a path header is a file."""
    blocks = _blocks(tmp_path)
    assert [b.info for b in blocks] == ["bash", "bash", "yaml", "yaml", "console", "console"]
    assert [b.runs for b in blocks] == [True, False, True, False, True, True]
    assert blocks[1].skip_reason == "needs a real appliance"
    assert blocks[2].file_path == "/tmp/guide/x.yaml"
    assert blocks[4].session[0][0] == "appliance-sim run /tmp/guide/x.yaml"
    assert blocks[5].session[0][0] is None  # output of the block before


def test_a_mark_without_reason_is_refused(tmp_path: Path) -> None:
    """An exemption must say why."""
    with pytest.raises(ConventionError, match="with a reason"):
        _blocks(tmp_path, "<!-- docs-test: not run: -->\n```bash\necho\n```\n")


def test_an_unclosed_fence_is_refused(tmp_path: Path) -> None:
    """A fence left open would swallow the rest of the page silently."""
    with pytest.raises(ConventionError, match="never closed"):
        _blocks(tmp_path, "```bash\necho\n")


def test_output_matches_with_numbers_and_gaps() -> None:
    """Digits and spacing vary; `...` skips lines; order matters."""
    expected = Expected(("T020 PASS: poll 2 (2.2s)", "...", "smoke verify: all checks passed"))
    printed = "noise\nT020 PASS: poll 3 (14.25s)\nPASS T021\nsmoke verify:  all checks passed\n"
    assert match_output(expected, printed) is None
    assert match_output(expected, "smoke verify: all checks passed\nT020 PASS: poll 3 (1.0s)") == (
        "smoke verify: all checks passed"
    )
    assert match_output(Expected(("T020 FAIL",)), printed) == "T020 FAIL"


def test_generated_names_match_any_generated_name() -> None:
    """A pod's template hash and suffix change with its template: any such name matches, a word
    or a name of another shape does not."""
    expected = Expected(("Started pod/web-gntxmgnmtj-nlsv5 in demo",))
    assert match_output(expected, "Started pod/web-trzqmmhqxm-9xk2c in demo") is None
    assert match_output(expected, "Started pod/web-trzqmmhqxm-nls in demo") is not None
    assert match_output(expected, "Started pod/api-trzqmmhqxm-9xk2c in demo") is not None
    # Vowels never appear in generated names: ordinary words stay literal.
    words = Expected(("kind-clusters ready",))
    assert match_output(words, "kind-clustrs ready") is not None


# A wait on a server the reader started: `( until READY; do kill -0 $PID || exit; sleep 1; done )`.
_WAIT = re.compile(r"^\S*\s*\(?\s*until (?P<ready>.+?); do (?P<body>.+?); done")
_GIVES_UP = re.compile(r"kill -0 \$\w+ \|\| exit; sleep 1")


def test_every_wait_in_the_docs_ends_when_its_server_exits() -> None:
    """A wait that only polls a log would hang (the docs test until its 20-minute timeout, a
    reader until Ctrl-C) when the server it waits for fails to start."""
    waits = [
        (block.where, match.group())
        for path in sorted((ROOT / "docs").glob("*.md"))
        for block in parse_blocks(path)
        if block.runs
        for line in block.body.splitlines()
        if (match := _WAIT.match(line)) is not None
    ]
    assert waits, "the docs wait for their servers with `until ...; do ...; done`"
    hanging = [f"{where}: {loop}" for where, loop in waits if not _GIVES_UP.search(loop)]
    assert not hanging, "\n".join(hanging)


def test_the_wait_form_stops_at_once_when_the_server_exits(tmp_path: Path) -> None:
    """The docs' form, run as the docs test runs it (one `set -euo pipefail` shell): a server
    that exits before it is ready fails the block at once, and nothing after the wait runs."""
    page = (
        "```bash\n"
        "sh -c 'echo cannot start >&2; exit 3' > /tmp/guide/server.log &\n"
        "SERVER=$!\n"
        "( until grep -q '^ready' /tmp/guide/server.log; do kill -0 $SERVER || exit; sleep 1; "
        "done )\n"
        "echo after the wait\n"
        "```\n"
    )
    run = run_document(_blocks(tmp_path, page), root=tmp_path, workdir=tmp_path / "run", timeout=60)
    # 1 from the wait itself; a wait that kept polling would end only at the timeout (-1).
    assert run.exit_code == 1, run.log
    assert "cannot start" in run.log
    assert "after the wait" not in run.log
