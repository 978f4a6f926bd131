"""schemathesis against the service's own OpenAPI schema, in-process: no 5xx, responses conform."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from status_web.app import create_app
from status_web.authenticating import FailureLimiter
from status_web.observations import MutableProvider
from tests.unit.status_web.samples import failed

TOKEN = "schema-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# A limiter that never trips, so fuzzed wrong tokens on /login do not hide the other routes.
app = create_app(
    provider=MutableProvider(failed()),
    token=TOKEN,
    limiter=FailureLimiter(max_failures=1_000_000),
    events_lifetime_seconds=0.0,
)
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app, headers=AUTH)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    """Every operation, fuzzed, answers without a 5xx and as its schema says."""
    response = case.call(headers=AUTH)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
