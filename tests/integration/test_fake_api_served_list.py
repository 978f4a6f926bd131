"""docs/simulator-api.md's table of served kinds is what discovery lists, and all of it answers.

Walks the legacy discovery documents of a served world: every resource (with its scope, short
names and subresources) must be a row of the table and every row a resource; every resource
that says it can be listed is listed.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.served_world import raw_http, served_world

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator-api.md"


def _documented() -> set[tuple[str, ...]]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- served-kinds:.*?-->\n(.*?)<!-- end served-kinds -->", text, re.S)
    assert block, "docs/simulator-api.md lost its served-kinds table"
    rows = set()
    for line in block.group(1).splitlines()[2:]:
        cells = tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        rows.add(cells)
    return rows


def test_the_documented_kinds_are_exactly_what_discovery_serves(tmp_path: Path) -> None:
    """Rows of the table = resources of discovery; each listable resource lists."""
    with served_world(tmp_path) as (_world, api), raw_http(api) as http:
        versions = [("", v) for v in http.get("/api").json()["versions"]]
        for group in http.get("/apis").json()["groups"]:
            versions += [(group["name"], v["version"]) for v in group["versions"]]
        served: set[tuple[str, ...]] = set()
        for group, version in versions:
            base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
            resources = http.get(base).json()["resources"]
            subresources: dict[str, list[str]] = {}
            for resource in resources:
                name, _, sub = resource["name"].partition("/")
                if sub:
                    subresources.setdefault(name, []).append(sub)
            for resource in resources:
                if "/" in resource["name"]:
                    continue
                served.add(
                    (
                        f"{group}/{version}" if group else version,
                        resource["name"],
                        resource["kind"],
                        "Namespaced" if resource["namespaced"] else "Cluster",
                        ", ".join(resource.get("shortNames") or []),
                        ", ".join(subresources.get(resource["name"], [])),
                    )
                )
                if "list" in resource["verbs"]:
                    listed = http.get(f"{base}/{resource['name']}")
                    assert listed.status_code == 200, (base, resource["name"], listed.text)
        assert served == _documented()
