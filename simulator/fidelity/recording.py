"""Recording the corpus: the product's own requests, from the fake API's request log.

`record_product` runs the README's main job on the fake API (the scenario's bootstrapper
invocations, the status service as its own process, until the rollup settles) and keeps every
request the log holds, in the order they arrived. The world is warped (its clock jumps whenever
every process waits, as `appliance-sim run --bootstrap` runs by default): the product then waits
in cluster seconds, as it does on a real cluster (so it polls as often per cluster minute as
there: most of its requests are the `GET /version` it reads the cluster's clock with), and the
run takes seconds of wall time. The bootstrapper and `appliance status` use the official client
as the admin; the status service uses it with its service account's token; the simulated `flux
install` (the `flux` user agent) is kept as the `flux` source: it is how the Flux CRDs and
controllers get onto the cluster, not the product.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simulator.fidelity.corpus import ADMIN, PRODUCT, CorpusRequest

__all__ = ["from_log", "record_product"]

_SERVICE_ACCOUNT = "system:serviceaccount:"


def _program(user_agent: str) -> str:
    return user_agent.split("/", 1)[0] or "unknown client"


def _source_and_actor(user: str, user_agent: str) -> tuple[str, str]:
    program = _program(user_agent)
    if program == "flux":
        return "flux", "flux install (simulated)"
    if program == "OpenAPI-Generator":  # the official Python client: the product's processes
        if user.startswith(_SERVICE_ACCOUNT):
            return PRODUCT, f"status service ({user.rsplit(':', 1)[-1]})"
        return PRODUCT, "bootstrapper"
    return program, program


def from_log(
    records: Iterable[Any], *, source: str | None = None, actor: str = ""
) -> list[CorpusRequest]:
    """Corpus requests from fake-API `RequestRecord`s, in the order they arrived.

    Unauthenticated requests are left out (each backend answers them for its own reasons: the
    fake API with 401, kube-apiserver as `system:anonymous`). With `source`, every request is
    filed under it (and `actor`); without, the user agent says (see the module docstring).
    """
    out = []
    for record in sorted(records, key=lambda r: r.arrival):
        if not record.user:
            continue
        user = ADMIN if record.user == "admin" else record.user
        headers = tuple(record.headers)
        agent = next((v for k, v in headers if k == "user-agent"), "")
        found_source, found_actor = _source_and_actor(user, agent)
        out.append(
            CorpusRequest(
                source=source or found_source,
                actor=actor or found_actor,
                user=user,
                method=record.method,
                path=record.path,
                query=record.query,
                headers=headers,
                body=record.body,
            )
        )
    return out


def record_product(scenario: Path, *, repository: Path) -> list[CorpusRequest]:
    """The requests of one bootstrap plus status-service run of `scenario` on the fake API."""
    from simulator.controlplane.timelines import bootstrap_on

    run = bootstrap_on(
        scenario,
        "fake-api",
        repository=repository,
        warp=True,
        inspect=lambda world: list(world.api.request_log),
    )
    return [r for r in from_log(run.inspected) if r.source in (PRODUCT, "flux")]
