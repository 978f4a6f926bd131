"""events.k8s.io/v1 Events as a view of core/v1's storage, in the store itself (the judge,
test_fake_api_vs_apiserver_events, compares the HTTP answers with a real control plane)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.api.selectors import parse_field_selector
from simulator.api.store import InvalidError, ObjectStore
from simulator.api.store.event_views import to_storage, to_view
from simulator.clock import VirtualClock

NEW = "events.k8s.io/v1"
ABOUT = {"kind": "Pod", "name": "web", "namespace": "default"}


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC)))


def _reported(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": NEW,
        "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "regarding": ABOUT,
        "reason": "Scheduled",
        "note": "placed",
        "type": "Normal",
        "action": "Binding",
        "eventTime": "2026-01-01T00:00:00.5+00:00",
        "reportingController": "default-scheduler",
        "reportingInstance": "scheduler-1",
        **fields,
    }


def test_an_event_written_through_one_api_is_read_through_the_other(store: ObjectStore) -> None:
    store.events.emit({"kind": "Pod", "metadata": ABOUT}, "Pulled", "pulled it")
    store.create(_reported("scheduled"), strict=True)
    core = {o["metadata"]["name"]: o for o in store.list("v1", "Event")}
    new = {o["metadata"]["name"]: o for o in store.list(NEW, "Event")}
    assert set(core) == set(new)
    assert len(core) == 2
    scheduled = core["scheduled"]
    assert scheduled["apiVersion"] == "v1"
    assert (scheduled["message"], scheduled["reportingComponent"]) == (
        "placed",
        "default-scheduler",
    )
    # Go's MicroTime: UTC, to the microsecond; a core/v1 Event's zero values are there.
    assert scheduled["eventTime"] == "2026-01-01T00:00:00.500000Z"
    assert scheduled["firstTimestamp"] is None
    assert scheduled["source"] == {}
    pulled = next(o for name, o in new.items() if name != "scheduled")
    assert pulled["apiVersion"] == NEW
    assert (pulled["note"], pulled["deprecatedSource"]) == ("pulled it", {"component": "kubelet"})
    assert "message" not in pulled
    assert "involvedObject" not in pulled


def test_a_view_selects_by_its_own_field_labels(store: ObjectStore) -> None:
    store.create(_reported("scheduled"), strict=True)
    info = store.kind_info(NEW, "Event")
    picked = parse_field_selector("regarding.name=web,reportingController=default-scheduler")
    items, _ = store.list_refs(info, fields=picked)
    assert [o["metadata"]["name"] for o in items] == ["scheduled"]
    items, _ = store.list_refs(info, fields=parse_field_selector("regarding.name=other"))
    assert items == []


def test_subscribers_hear_the_stored_form_of_a_write_through_the_view(store: ObjectStore) -> None:
    heard: list[dict[str, Any]] = []
    store.changes.subscribe(lambda _kind, obj: heard.append(obj))
    store.create(_reported("scheduled"), strict=True)
    store.patch(NEW, "Event", "scheduled", {"metadata": {"labels": {"a": "b"}}}, "merge", "default")
    assert [o["apiVersion"] for o in heard] == ["v1", "v1"]
    assert heard[-1]["metadata"]["labels"] == {"a": "b"}
    assert heard[-1]["message"] == "placed"


def test_the_view_refuses_what_events_k8s_io_refuses(store: ObjectStore) -> None:
    with pytest.raises(InvalidError, match=r"deprecatedCount|count: Invalid value: \"\": needs"):
        store.create(_reported("counted", deprecatedCount=2), strict=True)
    store.create(_reported("scheduled"), strict=True)
    with pytest.raises(InvalidError, match='message: Invalid value: "moved": field is immutable'):
        store.patch(NEW, "Event", "scheduled", {"note": "moved"}, "merge", "default", strict=True)
    # Through core/v1 the same change is allowed (no strict checks for its writers).
    store.patch("v1", "Event", "scheduled", {"message": "moved"}, "merge", "default", strict=True)
    assert store.get(NEW, "Event", "scheduled", "default")["note"] == "moved"  # type: ignore[index]


def test_the_conversion_round_trips_a_reported_event() -> None:
    stored = to_storage(_reported("scheduled", series={"count": 2, "lastObservedTime": "x"}))
    assert to_storage(to_view(stored)) == stored
