"""The docs convention itself: what runs, what is a file, what is skipped, how output matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.blocks import ConventionError, Expected, match_output, parse_blocks

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
