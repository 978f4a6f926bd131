"""The alga web app's HTTP endpoint on the simulated node address (port 3000)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = ["AppSpec"]


class AppSpec(BaseModel):
    """The app endpoint part of a scenario (`app:` in the YAML)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

    port: int = Field(default=3000, ge=1, le=65535)
    # What makes the world call `set_ready(True)`: the named Deployment having ready replicas
    # (the default, finding-11), a fixed virtual time, always, or never.
    ready_when: Literal["deploymentReady", "atTime", "always", "never"] = "deploymentReady"
    deployment: str = "alga-core"
    namespace: str = "msp"
    ready_at_seconds: float | None = Field(default=None, ge=0)
    status_code: int = 307
    location: str = "/msp/dashboard"
    # Before ready: nothing listens (the observed `curl` HTTP 000) or a 503 from a proxy.
    before_ready: Literal["connectionRefused", "503"] = "connectionRefused"
