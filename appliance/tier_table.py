"""The readiness tiers, declared once.

Every place that speaks of tiers iterates `TIERS`: the status engine (tier rules, blockers' login
impact, component order), `appliance status`, the status page and its JSON, and the
bootstrapper's phase markers. So the admin reads one vocabulary (docs/architecture.md, "Tiers"):
the bootstrapper's `==> [3/6] Core services` is the page's "Core services" and the CLI's.

Rules the table encodes:
- install order is `order`; a tier is ready only when every tier it waits for is (tiers.py);
- `gates_login`: login comes first, and background never blocks it. Platform gates login: without
  the node, the API and Flux nothing else is applied;
- a Kustomization that applies a tier alone (alga-platform, alga-background) is part of that tier's
  readiness; one shared by several tiers (alga-core: core, bootstrap, login) turns Ready only when
  its last tier is, so it is attributed to that last tier and gates none of the earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from appliance.canonical import TierName

__all__ = [
    "BOOTSTRAP_COMPONENT",
    "FULL_HEALTH_DESCRIPTION",
    "FULL_HEALTH_LABEL",
    "LOGIN_GATING",
    "STATUS_SERVICE",
    "TIERS",
    "TierSpec",
    "kustomization_tier",
    "kustomizations",
    "owns_kustomization",
    "tier_spec",
]

BOOTSTRAP_COMPONENT = "alga-core-bootstrap"
STATUS_SERVICE = "appliance-status"


@dataclass(frozen=True)
class TierSpec:
    """One readiness tier: what it is called, where it sits, and what it is made of."""

    name: TierName
    order: int
    gates_login: bool
    # The tier's name for people (bootstrap phase marker, page, CLI), and one line on what it is.
    label: str
    description: str
    # The workloads whose readiness the tier needs (components.py identifies them).
    components: tuple[str, ...]
    # The Flux Kustomization that applies the tier's objects (None: applied by hand).
    kustomization: str | None

    @property
    def title(self) -> str:
        """`Label: description`, the one line every surface shows for the tier."""
        return f"{self.label}: {self.description}"


TIERS: tuple[TierSpec, ...] = (
    TierSpec(
        name="platform",
        order=0,
        gates_login=True,
        label="Platform",
        description="Kubernetes, the node, Flux and the status service",
        components=(STATUS_SERVICE,),
        kustomization="alga-platform",
    ),
    TierSpec(
        name="core",
        order=1,
        gates_login=True,
        label="Core services",
        description="Postgres, Redis and PgBouncer",
        components=("db", "redis", "pgbouncer"),
        kustomization="alga-core",
    ),
    TierSpec(
        name="bootstrap",
        order=2,
        gates_login=True,
        label="Bootstrap",
        description="database migrations and seed data",
        components=(BOOTSTRAP_COMPONENT,),
        kustomization="alga-core",
    ),
    TierSpec(
        name="login",
        order=3,
        gates_login=True,
        label="Login",
        description="the app answers at its URL",
        components=("alga-core",),
        kustomization="alga-core",
    ),
    TierSpec(
        name="background",
        order=4,
        gates_login=False,
        label="Background services",
        description="email, Temporal and the workers (never block login)",
        components=(
            "email-service",
            "temporal",
            "temporal-ui",
            "workflow-worker",
            "temporal-worker",
        ),
        kustomization="alga-background",
    ),
)

FULL_HEALTH_LABEL = "Full health"
FULL_HEALTH_DESCRIPTION = "every tier above is ready"

_BY_NAME: dict[str, TierSpec] = {spec.name: spec for spec in TIERS}
LOGIN_GATING: frozenset[TierName] = frozenset(spec.name for spec in TIERS if spec.gates_login)


def tier_spec(name: str) -> TierSpec:
    """The spec of a tier by name; KeyError for anything else (full_health is no tier)."""
    return _BY_NAME[name]


def kustomizations() -> tuple[str, ...]:
    """The Flux Kustomizations in install order (each once)."""
    return tuple(dict.fromkeys(s.kustomization for s in TIERS if s.kustomization))


def kustomization_tier(name: str) -> TierName | None:
    """The tier a Kustomization's readiness belongs to: the last tier it applies."""
    applied = [spec for spec in TIERS if spec.kustomization == name]
    return applied[-1].name if applied else None


def owns_kustomization(spec: TierSpec) -> bool:
    """True when the tier is the only one its Kustomization applies (its Ready is the tier's)."""
    return spec.kustomization is not None and all(
        other.kustomization != spec.kustomization for other in TIERS if other is not spec
    )


def _check() -> None:
    # The wire model's tier names and this table are one list: fail at import, not in production.
    names = tuple(spec.name for spec in TIERS)
    if names != get_args(TierName) or [s.order for s in TIERS] != sorted(s.order for s in TIERS):
        raise RuntimeError(f"tier table {names} disagrees with canonical.TierName")


_check()
