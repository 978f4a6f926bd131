"""Steps for the real status service app in process (Litestar's TestClient), fed by the engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from tests.fixtures import Appliance

__all__ = ["ServiceClient"]


class ServiceClient:
    """A TestClient over `status_web.create_app`, and the last response it got."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.response: Any = None

    def get(self, path: str, *, token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.response = self.client.get(path, headers=headers, follow_redirects=False)
        return self.response


@pytest.fixture
def service_holder() -> Iterator[list[ServiceClient]]:
    """Owns the TestClient so it is closed after the scenario, whichever steps ran."""
    holder: list[ServiceClient] = []
    yield holder
    for service in holder:
        service.client.__exit__(None, None, None)


@given(
    parsers.parse('the status service serving a healthy appliance with token "{token}"'),
    target_fixture="service",
)
def status_service(service_holder: list[ServiceClient], token: str) -> ServiceClient:
    from litestar.testing import TestClient

    from status_web.app import create_app
    from status_web.observations import MutableProvider

    appliance = Appliance.healthy()
    appliance.users_count_measurable = False  # the in-cluster service has no exec right
    status = appliance.evaluate()
    client = TestClient(app=create_app(provider=MutableProvider(status), token=token))
    client.__enter__()
    service = ServiceClient(client)
    service_holder.append(service)
    return service


@when(parsers.parse('a client requests "{path}" without a token'))
def request_without_token(service: ServiceClient, path: str) -> None:
    service.get(path, token=None)


@when(parsers.parse('a client requests "{path}" with bearer token "{token}"'))
def request_with_token(service: ServiceClient, path: str, token: str) -> None:
    service.get(path, token=token)


@then(parsers.parse("the response status is {code:d}"))
def response_status(service: ServiceClient, code: int) -> None:
    assert service.response.status_code == code, service.response.text


@then(parsers.parse('the response is canonical status JSON with rollup state "{state}"'))
def response_canonical(service: ServiceClient, state: str) -> None:
    data = service.response.json()
    assert data["siteId"] == "appliance-single-node"
    assert data["rollup"]["state"] == state, data["rollup"]
    assert "topBlockers" in data
    assert "loginProbe" in data


@then(parsers.parse('the response does not contain "{text}"'))
def response_lacks(service: ServiceClient, text: str) -> None:
    assert text not in service.response.text, service.response.text
