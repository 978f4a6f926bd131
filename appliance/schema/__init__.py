"""The published JSON Schema of the canonical status, generated from `appliance.canonical`.

Regenerate after changing the model: `python -m appliance.schema` (a test keeps the committed
file equal to the model's current schema).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appliance.canonical import ApplianceStatus

__all__ = ["SCHEMA_PATH", "render_schema", "status_schema", "write_schema"]

SCHEMA_PATH = Path(__file__).with_name("appliance-status.schema.json")
SCHEMA_ID = "https://appliance.local/schema/appliance-status.schema.json"


def status_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the canonical status, camelCase as on the wire."""
    schema = ApplianceStatus.model_json_schema(by_alias=True, mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def render_schema() -> str:
    """The schema file's exact text."""
    return json.dumps(status_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the schema file (used after changing the model)."""
    path.write_text(render_schema(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_schema())
