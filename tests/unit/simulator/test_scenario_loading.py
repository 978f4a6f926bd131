"""Scenario files: validation errors name the file, the line, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.world.durations import format_go_duration, parse_duration
from simulator.world.scenario import ScenarioError, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[3]


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="scenarios/x.yaml")
    return str(info.value)


def test_wrong_type_names_file_line_and_field() -> None:
    """A delay that is not a duration is reported at its line with the dotted field path."""
    text = "name: x\nstages:\n  - name: a\n    match: {kind: Pod}\n    delay: soon\n    then: {}\n"
    message = _error(text)
    assert message.startswith("scenarios/x.yaml:5: stages[0].delay: ")
    assert "cannot read duration 'soon'" in message


def test_malformed_yaml_names_line_and_column() -> None:
    """Broken YAML gives file:line:col and the parser's reason."""
    message = _error("name: x\nobjects: [\n  {a: 1\n")
    assert message.startswith("scenarios/x.yaml:")
    assert message.count(":") >= 3
    assert "expected" in message or "found" in message


def test_unknown_field_is_reported_at_its_line() -> None:
    """A misspelt key is rejected at the line where it is written."""
    message = _error("name: x\nhost:\n  initialState: running\n  dnsRefused: true\n")
    assert "scenarios/x.yaml:4: host.dnsRefused: Extra inputs are not permitted" in message


def test_missing_required_field() -> None:
    """A scenario without a name says so."""
    assert "scenarios/x.yaml:1: name: Field required" in _error("description: no name\n")


def test_action_needs_the_fields_of_its_verb() -> None:
    """A patch action without target and patch names what it needs."""
    message = _error("name: x\nevents:\n  - at: 5m\n    action: patch\n")
    assert "scenarios/x.yaml:3: events[0]" in message
    assert "needs target, patch" in message


def test_enum_value_error_names_the_allowed_values() -> None:
    """A wrong host state lists the valid ones."""
    message = _error("name: x\nhost:\n  initialState: booting\n")
    assert "scenarios/x.yaml:3: host.initialState:" in message
    assert "'maintenance'" in message


def test_duplicate_keys_are_rejected() -> None:
    """A key written twice is an error, not a silent override."""
    assert "scenarios/x.yaml:2:1: duplicate key 'name'" in _error("name: x\nname: y\n")


def test_a_key_that_is_no_name_is_rejected() -> None:
    """`? [a, b]` is a YAML key (an adversary's find: a TypeError traceback), not a field's."""
    assert "scenarios/x.yaml:2:3: a key must be a name" in _error("name: x\n? [a, b]\n: 1\n")


def test_an_undefined_alias_is_named_at_its_line() -> None:
    """An alias to no anchor names the alias, in a block and in a flow sequence."""
    assert "scenarios/x.yaml:2:9: found undefined alias 'nope'" in _error(
        "name: x\nstages: *nope\n"
    )
    assert "scenarios/x.yaml:2:13: found undefined alias 'b'" in _error(
        "name: x\nstages: [a, *b]\n"
    )


def test_image_reference_keys_are_quoted_in_field_paths() -> None:
    """Field paths through image references stay readable."""
    message = _error("name: x\nregistry:\n  images:\n    ghcr.io/a/b:1: {sizeBytes: -1}\n")
    assert "scenarios/x.yaml:4: registry.images['ghcr.io/a/b:1'].sizeBytes" in message


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    """A missing file is a ScenarioError naming the path."""
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    "path", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").rglob("*.yaml"))
)
def test_every_shipped_scenario_loads(path: str) -> None:
    """Every scenario in scenarios/ validates."""
    scenario = load_scenario(ROOT / path)
    assert scenario.name


@pytest.mark.parametrize(
    ("text", "seconds"), [("90m", 5400.0), ("16m2.1s", 962.1), ("30", 30.0), ("1h30m", 5400.0)]
)
def test_durations_parse(text: str, seconds: float) -> None:
    """Durations accept Go syntax and plain seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


def test_durations_print_like_kubelet() -> None:
    """Pull durations print like Go's time.Duration."""
    assert format_go_duration(962.1) == "16m2.1s"
    assert format_go_duration(3600) == "1h0m0s"
