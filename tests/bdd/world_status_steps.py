"""World-level Then steps on the status: what `appliance status --json` printed, the status
token our bootstrapper stored, and what the real status service it deployed (and the app)
answer, letting virtual time pass while they wait (`eventually`, world_steps.py).
"""

from __future__ import annotations

import base64
import json
import stat
from typing import Any

import httpx
from pytest_bdd import parsers, then

from tests.bdd.world_steps import eventually
from tests.bdd.worlds import SITE_ID, CommandResult, WorldSession

# --- Then: `appliance status --json` -------------------------------------------------------


def _status_output(result: CommandResult) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except ValueError as exc:
        raise AssertionError(f"no status JSON on stdout ({exc}):\n{result.describe()}") from exc
    return data


def _blockers_said(data: dict[str, Any]) -> str:
    return "; ".join(
        f"{b['layer']} [{b.get('component')}] loginBlocking={b['loginBlocking']}"
        for b in data.get("topBlockers", [])
    )


@then(
    parsers.parse('the status JSON blocker for "{component}" has layer "{layer}"'),
    target_fixture="blocker",
)
def json_blocker_for(result: CommandResult, component: str, layer: str) -> dict[str, Any]:
    data = _status_output(result)
    for blocker in data.get("topBlockers", []):
        if blocker.get("component") == component:
            assert blocker["layer"] == layer, _blockers_said(data)
            found: dict[str, Any] = blocker
            return found
    raise AssertionError(f"no blocker for {component}: {_blockers_said(data)}")


@then(parsers.parse('the status JSON has a blocker for "{component}"'), target_fixture="blocker")
def json_has_blocker(result: CommandResult, component: str) -> dict[str, Any]:
    data = _status_output(result)
    for blocker in data.get("topBlockers", []):
        if blocker.get("component") == component:
            found: dict[str, Any] = blocker
            return found
    raise AssertionError(f"no blocker for {component}: {_blockers_said(data)}")


@then(parsers.parse('that blocker\'s reason mentions "{text}"'))
def that_blocker_reason(blocker: dict[str, Any], text: str) -> None:
    assert text in blocker["reason"], blocker["reason"]


@then("that blocker is login-blocking")
def that_blocker_blocks(blocker: dict[str, Any]) -> None:
    assert blocker["loginBlocking"] is True, blocker


@then("that blocker is not login-blocking")
def that_blocker_does_not_block(blocker: dict[str, Any]) -> None:
    assert blocker["loginBlocking"] is False, blocker


@then("that blocker is retryable")
def that_blocker_retryable(blocker: dict[str, Any]) -> None:
    assert blocker.get("retryable") is True, blocker


@then(parsers.parse('that blocker\'s next action mentions "{text}"'))
def that_blocker_next_action(blocker: dict[str, Any], text: str) -> None:
    assert text in blocker["nextAction"], blocker["nextAction"]


@then(parsers.parse('the status JSON rollup state is "{state}"'))
def json_rollup(result: CommandResult, state: str) -> None:
    data = _status_output(result)
    assert data["rollup"]["state"] == state, f"{data['rollup']}; {_blockers_said(data)}"


@then(parsers.parse('the status JSON shows an active pull of "{image}" for "{component}"'))
def json_active_pull(result: CommandResult, image: str, component: str) -> None:
    operations = _status_output(result).get("activeOperations", [])
    found = [o for o in operations if o["image"] == image and o["component"] == component]
    assert found, f"no active pull of {image} for {component}: {operations}"


@then(parsers.parse('the status JSON top blocker has layer "{layer}"'))
def json_top_layer(result: CommandResult, layer: str) -> None:
    data = _status_output(result)
    blockers = data.get("topBlockers", [])
    assert blockers, f"no blockers: {data['rollup']}"
    assert blockers[0]["layer"] == layer, _blockers_said(data)


@then(parsers.parse('some status JSON blocker mentions "{text}"'))
def json_blocker_mentions(result: CommandResult, text: str) -> None:
    data = _status_output(result)
    said = [json.dumps(b) for b in data.get("topBlockers", [])]
    assert any(text in b for b in said), _blockers_said(data)


@then(parsers.parse("the status JSON shows {count:d} seeded users, verified"))
def json_seeded(result: CommandResult, count: int) -> None:
    bootstrap = _status_output(result)["bootstrap"]
    assert bootstrap["seed"]["usersCount"] == count, bootstrap
    assert bootstrap["seed"]["verified"] is True, bootstrap
    assert bootstrap["job"]["state"] == "completed", bootstrap


@then(parsers.parse('the status JSON login probe answered {code:d} with location "{location}"'))
def json_login_probe(result: CommandResult, code: int, location: str) -> None:
    probe = _status_output(result)["loginProbe"]
    assert probe["ok"] is True, probe
    assert probe["statusCode"] == code, probe
    assert probe["location"] == location, probe


# --- Then: the token --------------------------------------------------------------------------


def _token(session: WorldSession) -> str:
    assert session.status_token_file.exists(), f"no token file at {session.status_token_file}"
    return session.status_token_file.read_text(encoding="utf-8").strip()


@then("the status token file exists with mode 0600")
def token_file_private(session: WorldSession) -> None:
    _token(session)
    mode = stat.S_IMODE(session.status_token_file.stat().st_mode)
    assert mode == 0o600, f"{session.status_token_file} has mode {oct(mode)}"


@then("the output contains the token from the status token file")
def output_has_token(session: WorldSession, result: CommandResult) -> None:
    assert _token(session) in result.output, result.describe()


@then(parsers.parse('the Secret "{ref}" holds the same token'))
def secret_holds_token(session: WorldSession, ref: str) -> None:
    namespace, name = ref.split("/", 1)
    secret = session.world.get("Secret", name, namespace)
    assert secret is not None, f"no Secret {ref} in the cluster"
    data = secret.get("data", {})
    value = base64.b64decode(data["token"]).decode() if "token" in data else None
    value = value or secret.get("stringData", {}).get("token")
    assert value == _token(session)


# --- Then: the status service and the app -----------------------------------------------------


def _status(session: WorldSession, *, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"http://{session.node_ip}:8080/api/status", headers=headers, timeout=5.0)


def _status_json(session: WorldSession) -> dict[str, Any]:
    response = _status(session, token=_token(session))
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


@then(parsers.parse('the status service reports the tier "{tier}" ready'))
def service_tier_ready(session: WorldSession, tier: str) -> None:
    eventually(
        lambda: _status_json(session)["tiers"][tier]["ready"],
        what=f"status tier {tier} ready",
        session=session,
    )


@then(parsers.parse('the status service reports rollup "{state}"'))
def service_rollup(session: WorldSession, state: str) -> None:
    eventually(
        lambda: _status_json(session)["rollup"]["state"] == state,
        what=f"status rollup {state}",
        session=session,
    )


@then(
    parsers.parse(
        'the status service reports a blocker "{layer}" for "{component}" that is not '
        "login-blocking"
    )
)
def service_blocker(session: WorldSession, layer: str, component: str) -> None:
    def found() -> bool:
        return any(
            b["layer"] == layer and b["component"] == component and not b["loginBlocking"]
            for b in _status_json(session)["topBlockers"]
        )

    eventually(found, what=f"a non-login-blocking {layer} blocker for {component}", session=session)


@then("the status service reports more than 0 seeded users or a completed bootstrap Job")
def service_seeded(session: WorldSession) -> None:
    def seeded() -> bool:
        bootstrap = _status_json(session)["bootstrap"]
        users = bootstrap["seed"].get("usersCount")
        return (users or 0) > 0 or bootstrap["job"]["state"] == "completed"

    eventually(seeded, what="seeded users or a completed bootstrap Job", session=session)


@then(parsers.parse('the status service on "{address}" answers 401 without a token'))
def service_401(session: WorldSession, address: str) -> None:
    url = f"http://{session.expand(address)}/api/status"
    eventually(
        lambda: httpx.get(url, timeout=5.0).status_code == 401,
        what=f"401 from {url}",
        session=session,
    )


@then(
    parsers.parse(
        'the status service on "{address}" answers the status JSON with the printed token'
    )
)
def service_answers_printed_token(
    session: WorldSession, result: CommandResult, address: str
) -> None:
    token = _token(session)
    assert token in result.output, "the bootstrapper did not print the token it stored"
    url = f"http://{session.expand(address)}/api/status"

    def answered() -> bool:
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5.0)
        return response.status_code == 200 and response.json()["siteId"] == SITE_ID

    eventually(answered, what=f"status JSON from {url}", session=session)


@then(parsers.parse('the app URL answers {code:d} with location "{location}"'))
def app_answers(session: WorldSession, code: int, location: str) -> None:
    url = f"http://{session.node_ip}:3000/"

    def answered() -> bool:
        response = httpx.get(url, timeout=5.0, follow_redirects=False)
        return response.status_code == code and response.headers.get("location", "").endswith(
            location
        )

    eventually(answered, what=f"{code} to {location} from {url}", session=session)


@then("the monitor succeeds")
def monitor_succeeds(monitor_output: list[str]) -> None:
    code, output = monitor_output
    assert code == "0", output


@then("the status API answered before the app URL")
def status_before_app(monitor_output: list[str]) -> None:
    _, output = monitor_output
    report = json.loads(output[output.index("{") :])
    assert report["statusFirstPoll"] is not None, report
    assert report["appFirstPoll"] is None or report["statusFirstPoll"] < report["appFirstPoll"], (
        report
    )
