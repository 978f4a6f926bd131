"""Label and field selector parsing and matching."""

from __future__ import annotations

import pytest

from simulator.api.selectors import (
    SelectorError,
    parse_field_selector,
    parse_label_selector,
    selector_from_match,
)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=db", {"app": "db"}, True),
        ("app==db", {"app": "redis"}, False),
        ("app!=db", {}, True),
        ("app in (db, redis)", {"app": "redis"}, True),
        ("app notin (db)", {"app": "db"}, False),
        ("tier", {"tier": "core"}, True),
        ("!tier", {"tier": "core"}, False),
        ("app=db,tier in (core)", {"app": "db", "tier": "core"}, True),
        ("app.kubernetes.io/name=web", {"app.kubernetes.io/name": "web"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    """Each operator matches as on the API server."""
    assert parse_label_selector(selector).matches(labels) is expected


def test_malformed_label_selector_is_an_error() -> None:
    """Garbage is rejected (the server answers 400)."""
    with pytest.raises(SelectorError, match="unable to parse requirement"):
        parse_label_selector("app=(")


def test_field_selectors_on_nested_paths() -> None:
    """involvedObject.* and status.phase paths match; != negates; a missing field is ''."""
    event = {"metadata": {"name": "e"}, "involvedObject": {"name": "db-0", "kind": "Pod"}}
    assert parse_field_selector("involvedObject.name=db-0,involvedObject.kind=Pod").matches(event)
    assert not parse_field_selector("involvedObject.name!=db-0").matches(event)
    assert parse_field_selector("status.phase=").matches(event)
    assert parse_field_selector("metadata.name=x").name == "x"


def test_selector_from_match_expressions() -> None:
    """matchLabels and matchExpressions build the same selector semantics."""
    sel = selector_from_match(
        {"matchLabels": {"app": "db"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]}
    )
    assert sel.matches({"app": "db", "tier": "x"})
    assert not sel.matches({"app": "db"})
