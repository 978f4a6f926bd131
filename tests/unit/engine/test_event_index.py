"""The Event index's shortcut (C passes over well-formed Events) answers exactly as reading the
Events one at a time does: same keys in the same order, same lists oldest first, same newest.

The reference below is the grouping the engine did before the shortcut (event by event, pairs
of time and Event, stable sorts); hypothesis feeds both well-formed and odd Events.
"""

from __future__ import annotations

import heapq
from operator import itemgetter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.event_index import EventIndex, event_time_text, involved_object

# Few times, so that ties (kept in the API's order) are common.
STAMPS = ["2026-04-29T15:00:00Z", "2026-04-29T15:00:07Z", "2026-04-29T15:01:00Z"]


def reference(events: list[Any]) -> tuple[dict[Any, list[Any]], list[tuple[str, Any]]]:
    stamped = [(event_time_text(e), e) for e in events if type(e) is dict]
    by_object: dict[Any, list[tuple[str, Any]]] = {}
    for pair in stamped:
        by_object.setdefault(involved_object(pair[1]), []).append(pair)
    grouped = {
        key: [e for _, e in sorted(pairs, key=itemgetter(0))] for key, pairs in by_object.items()
    }
    return grouped, heapq.nlargest(5, stamped, key=itemgetter(0))


def well_formed(draw: Any, i: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Pod", "Pod", "PersistentVolumeClaim", "Node"]))
    target: dict[str, Any] = {"kind": kind, "name": draw(st.sampled_from(["a", "b", "c"]))}
    if kind != "Node":
        target["namespace"] = draw(st.sampled_from(["msp", "flux-system"]))
    return {
        "kind": "Event",
        "metadata": {"name": f"e{i}", "namespace": "msp"},
        "involvedObject": target,
        "lastTimestamp": draw(st.sampled_from(STAMPS)),
        "reason": "Pulled",
    }


ODD_VALUES = st.one_of(st.none(), st.just(""), st.just(3), st.just(["x"]), st.just({"k": 1}))


@st.composite
def event_lists(draw: Any) -> list[Any]:
    events: list[Any] = []
    for i in range(draw(st.integers(0, 30))):
        event = well_formed(draw, i)
        if draw(st.integers(0, 3)) == 0:  # now and then, something a dump may hold
            oddity = draw(st.integers(0, 7))
            target = event["involvedObject"]
            if oddity == 0:
                event["involvedObject"] = draw(ODD_VALUES)
                event["regarding"] = {"kind": "Pod", "name": "a", "namespace": "msp"}
            elif oddity == 1:
                target[draw(st.sampled_from(["kind", "name", "namespace"]))] = draw(ODD_VALUES)
            elif oddity == 2:
                target.pop("namespace", None)
            elif oddity == 3:
                event["lastTimestamp"] = draw(ODD_VALUES)
                event["eventTime"] = draw(st.sampled_from(STAMPS))
            elif oddity == 4:
                event["series"] = {"lastObservedTime": draw(st.sampled_from(STAMPS))}
            elif oddity == 5:
                event = draw(ODD_VALUES)
            elif oddity == 6:
                target["kind"] = "Node"
            else:
                target["namespace"] = draw(st.sampled_from(["", None]))
        events.append(event)
    return events


@settings(max_examples=400, deadline=None)
@given(event_lists())
def test_the_index_answers_as_reading_one_event_at_a_time(events: list[Any]) -> None:
    grouped, newest = reference(events)
    index = EventIndex(events)
    assert list(index) == list(grouped)
    assert {key: index[key] for key in index} == grouped
    for key in grouped:  # the same objects, in the same order, not just equal ones
        assert [id(e) for e in index[key]] == [id(e) for e in grouped[key]]
    assert [(t, id(e)) for t, e in index.newest(5)] == [(t, id(e)) for t, e in newest]


def test_two_forms_of_one_object_keep_the_api_order_of_their_events() -> None:
    """A Node named with and without a namespace is one object: its Events interleave."""
    forms = ({"kind": "Node", "name": "a"}, {"kind": "Node", "name": "a", "namespace": "msp"})
    events = [
        {"involvedObject": forms[i % 2], "lastTimestamp": STAMPS[0], "n": i} for i in range(3)
    ]
    grouped, _ = reference(events)
    assert [e["n"] for e in grouped["Node", None, "a"]] == [0, 1, 2]
    assert [e["n"] for e in EventIndex(events)["Node", None, "a"]] == [0, 1, 2]


def test_well_formed_events_take_the_shortcut_and_odd_ones_do_not() -> None:
    """The shortcut is what makes the bench's 20,000 Events cheap: it must apply to them."""
    from appliance import event_index

    good = [
        {
            "involvedObject": {"kind": "Pod", "name": "a", "namespace": "msp"},
            "lastTimestamp": STAMPS[0],
        },
        {"involvedObject": {"kind": "Node", "name": "n"}, "lastTimestamp": STAMPS[1]},
        {
            "involvedObject": {"kind": "Pod", "name": "a", "namespace": "msp"},
            "lastTimestamp": STAMPS[0],
        },
    ]
    # The Node's Event names no namespace: read alone, and the Events after it still grouped.
    assert event_index._fast_buckets(good) == {
        ("Pod", "msp", "a"): [good[0], good[2]],
        ("Node", None, "n"): [good[1]],
    }
    assert event_index._fast_stamps(good) == ([*STAMPS[:2], STAMPS[0]], set(STAMPS[:2]))
    no_namespace = [{"involvedObject": {"kind": "Pod", "name": "a"}, "metadata": {}}]
    assert event_index._fast_buckets(no_namespace) is None
    assert event_index._fast_stamps(no_namespace) is None
