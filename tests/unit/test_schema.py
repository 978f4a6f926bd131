"""The committed JSON Schema is the canonical model's current schema."""

from __future__ import annotations

import json

from appliance.schema import SCHEMA_PATH, render_schema, status_schema
from tests.fixtures import Appliance, probe_ok


def test_committed_schema_matches_model() -> None:
    """appliance-status.schema.json equals the schema generated from appliance.canonical."""
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "the canonical model changed: run `python -m appliance.schema` and commit the file"
    )


def test_schema_uses_camel_case_wire_names() -> None:
    """The schema names the wire fields (siteId, topBlockers, activeOperations)."""
    props = status_schema()["properties"]
    assert {"siteId", "topBlockers", "activeOperations", "loginProbe", "recentEvents"} <= set(props)


def test_engine_output_validates_against_schema() -> None:
    """A real status validates against the published schema."""
    import jsonschema_rs

    from appliance.engine import evaluate

    status = evaluate(
        Appliance.healthy().snapshot(),
        site_id="s",
        login_probe=probe_ok(),
        users_count=7,
        users_count_measurable=True,
    )
    jsonschema_rs.validate(status_schema(), json.loads(status.to_json()))
