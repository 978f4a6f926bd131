"""Bad and hostile scenario files (issue 9 item 14): one `FILE:LINE: field: reason`, fast, small.

Every file below once gave a traceback, ran away or was accepted silently. Now each is a
ScenarioError naming the file, the line and the reason, within bounded memory (measured here;
the time bound is the test timeout: no timing assertion).
"""

from __future__ import annotations

import os
import re
import tracemalloc
from pathlib import Path

import pytest

from simulator.world.scenario import ScenarioError, load_scenario, parse_scenario
from simulator.world.scenario_limits import MAX_REPLICAS

DEPLOYMENT = """name: x
objects:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {{name: a, namespace: b}}
  spec:
    replicas: {replicas}
"""
BOMB = "\n".join(
    ["name: x", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
)
TEXTS = {
    "duration-nan": ("name: x\nduration: .nan\n", 2, "duration: a duration must be a finite"),
    "duration-inf": ("name: x\nduration: .inf\n", 2, "duration: a duration must be a finite"),
    "speed-inf": ("name: x\nspeed: .inf\n", 2, "speed: "),
    "at-overflow": (
        "name: x\nevents:\n- at: 1000000000h\n  action: note\n  note: hi\n",
        3,
        "events[0].at: a duration can be at most 30 days",
    ),
    "replicas-many": (DEPLOYMENT.format(replicas="many"), 7, "spec.replicas: must be a whole"),
    "replicas-billion": (
        DEPLOYMENT.format(replicas=1_000_000_000),
        7,
        "objects[0].spec.replicas: must be between 0 and 100",
    ),
    "fault-regex": (
        "name: x\nevents:\n- at: 1s\n  action: fault\n  fault: {path: '((('}\n",
        5,
        "events[0].fault.path: '(((' is not a regular expression",
    ),
    "where-path": (
        "name: x\nstages:\n- name: s\n  match:\n    kind: Pod\n    where:\n"
        "    - path: spec.[[[\n      op: exists\n  then: {delete: true}\n",
        7,
        "stages[0].match.where[0].path: 'spec.[[[' is not a field path",
    ),
    "patch-replicas": (
        "name: x\nevents:\n- at: 1s\n  action: patch\n  target: {apiVersion: apps/v1, "
        "kind: StatefulSet, name: db, namespace: msp}\n  patch:\n    spec: {replicas: 5000}\n",
        7,
        "events[0].patch.spec.replicas: must be between 0 and 100",
    ),
    "deep": ("name: x\nobjects: " + "[" * 5000 + "\n", 2, "nest"),
    "alias-bomb": (BOMB, 7, "expands to more than 1000000 values"),
    "alias-loop": ("name: x\nloop: &l [a, *l]\n", 2, "refers to itself"),
    "start-year": ("name: x\nstart: '9999-12-31T23:59:59Z'\n", 2, "start: start must be between"),
}


@pytest.mark.parametrize(("text", "line", "reason"), TEXTS.values(), ids=list(TEXTS))
def test_a_bad_scenario_is_one_located_error_in_bounded_memory(
    text: str, line: int, reason: str
) -> None:
    """FILE:LINE: field: reason, and never more than 200 MB to find out."""
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError) as caught:
            parse_scenario(text, source="bad.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = caught.value.one_line()
    assert re.match(rf"bad\.yaml:{line}(:\d+)?: ", message), message
    assert reason in message
    assert peak < 200 * 1024 * 1024


@pytest.mark.parametrize("kind", ["binary", "fifo", "dev-zero", "directory", "huge"])
def test_a_scenario_that_is_not_a_text_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    """A binary file, a FIFO with no writer, /dev/zero, a directory, an enormous file."""
    path = tmp_path / "scenario.yaml"
    if kind == "binary":
        path.write_bytes(b"name: x\n\xff\xfe\x00")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    else:
        with path.open("wb") as handle:
            handle.truncate(17 * 1024 * 1024)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.one_line().startswith(f"{path}:")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("replicas", [0, 1, MAX_REPLICAS])
def test_workload_sizes_within_the_limit_are_accepted(replicas: int) -> None:
    """The limit refuses only what no single node could run."""
    scenario = parse_scenario(DEPLOYMENT.format(replicas=replicas), source="ok.yaml")
    assert scenario.objects[0]["spec"]["replicas"] == replicas


def test_many_errors_are_summarised(tmp_path: Path) -> None:
    """Fifty mistakes are the first few and a count, not a wall of text."""
    events = "".join(f"- at: {i}x\n  action: note\n  note: n\n" for i in range(50))
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(f"name: x\nevents:\n{events}", source="many.yaml")
    lines = str(caught.value).splitlines()
    assert len(lines) == 6
    assert lines[-1] == "many.yaml: and 45 more problems"
