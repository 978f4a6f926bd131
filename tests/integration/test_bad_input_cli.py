"""Bad input through the real command lines (issue 9 items 13 and 14).

`appliance status --from-dump FILE` and the scenario loader (`appliance-sim check FILE`, what
`run` loads with) given anything: exit 2 and one line on stderr naming the file, or a real answer;
never a traceback, never a hang. Hypothesis generates the files: raw bytes, JSON or YAML of
arbitrary shape, and valid files cut or bent at a random place.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from appliance import cli as appliance_cli
from simulator import cli as simulator_cli

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DUMP_EXAMPLE = (ROOT / "appliance" / "examples" / "utm-rc5-db-subpath.json").read_bytes()
SCENARIO_EXAMPLE = (ROOT / "scenarios" / "findings" / "finding-07-db-subpath.yaml").read_bytes()
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def bent(example: bytes) -> st.SearchStrategy[bytes]:
    """`example` cut short, with bytes replaced, or with a piece pasted in at a random place."""
    at = st.integers(min_value=0, max_value=len(example))
    return st.one_of(
        at.map(lambda i: example[:i]),
        st.tuples(at, st.binary(min_size=1, max_size=6)).map(
            lambda c: example[: c[0]] + c[1] + example[c[0] + len(c[1]) :]
        ),
        st.tuples(
            at, st.sampled_from([b"[", b"{", b"*a", b"&a ", b": ", b"\t", b"\x00", b"- "])
        ).map(lambda c: example[: c[0]] + c[1] + example[c[0] :]),
    )


@contextlib.contextmanager
def written(content: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "input"
        path.write_bytes(content)
        yield path


def run_main(main: Callable[[list[str]], int], argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def assert_one_line_about(err: str, path: Path, prefix: str) -> None:
    assert err.count("\n") == 1, err
    assert err.startswith(f"{prefix}: "), err
    assert str(path) in err, err
    assert "Traceback" not in err


@FUZZ
@given(
    content=st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        bent(DUMP_EXAMPLE),
    )
)
# Found by the fuzzing: tagged values their tag cannot read were tracebacks.
@example(content=b"!!int x\n")
@example(content=b"items: [!!bool maybe]\n")
@example(content=b"=\n")
def test_any_dump_file_is_an_answer_or_exit_2_with_one_line(content: bytes) -> None:
    """`appliance status --from-dump`: a status (exit 0/3/4) or exit 2 and one line."""
    with written(content) as path:
        code, err = run_main(appliance_cli.main, ["status", "--from-dump", str(path), "--json"])
        if code == 2:
            assert_one_line_about(err, path, "appliance status")
        else:
            assert code in (0, 3, 4), err


@FUZZ
@given(
    content=st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: yaml.safe_dump({"name": "fuzz", **{"x": v}}).encode()),
        st.dictionaries(
            st.sampled_from(["name", "duration", "speed", "start", "events", "objects", "stages"]),
            json_values,
        ).map(lambda d: yaml.safe_dump(d).encode()),
        bent(SCENARIO_EXAMPLE),
    )
)
# Found by the fuzzing: `=` (YAML's value tag) and tagged values their tag cannot read were
# tracebacks.
@example(content=b"=\n")
@example(content=b"name: !!float abc\n")
@example(content=b"{!!timestamp 2020-13-45: 1}\n")
def test_any_scenario_file_is_valid_or_exit_2_with_one_line(content: bytes) -> None:
    """`appliance-sim check FILE` (the loader `run` uses): valid (exit 0) or exit 2, one line."""
    with written(content) as path:
        code, err = run_main(simulator_cli.main, ["check", str(path)])
        if code == 2:
            assert_one_line_about(err, path, "appliance-sim")
        else:
            assert code == 0, err


ADVERSARIES: dict[str, Callable[[Path], None]] = {
    "dev-zero": lambda p: p.symlink_to("/dev/zero"),
    "fifo": os.mkfifo,
    "deep": lambda p: p.write_text("[" * 100_000),
    "binary": lambda p: p.write_bytes(b"\xff\xfe\x00\x01" * 16),
}


@pytest.mark.parametrize("adversary", list(ADVERSARIES))
@pytest.mark.parametrize(
    ("argv", "prefix"),
    [
        (["appliance", "status", "--from-dump"], "appliance status"),
        (["appliance-sim", "run"], "appliance-sim"),
    ],
    ids=["dump", "scenario"],
)
def test_the_real_executables_exit_2_with_one_line(
    tmp_path: Path, adversary: str, argv: list[str], prefix: str
) -> None:
    """The installed commands, as an admin runs them: exit 2, one line, within the timeout."""
    path = tmp_path / "input"
    ADVERSARIES[adversary](path)
    done = subprocess.run(
        [str(BIN / argv[0]), *argv[1:], str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert_one_line_about(done.stderr, path, prefix)
