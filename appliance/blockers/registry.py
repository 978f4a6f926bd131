"""The detector registry: registration, coverage and ranking, in one place.

A detector is a pure function `(index, covered) -> list[Blocker]`, registered with
`@detector(layer=..., rank=..., specialised=...)`:
- `layer` is the exact layer string of the blockers it returns;
- `rank` orders layers after login impact (lower is more important): root causes rank above the
  generic timeouts they cause (T009);
- `specialised` detectors name a root cause and run first; what they explain (a component, an
  object) is covered, so generic detectors do not say it again. Generic detectors cover only the
  objects they named: another failure of the same component must still be named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.canonical import Blocker
from appliance.indexing import Index, Signal

__all__ = [
    "Covered",
    "Detector",
    "Registered",
    "detector",
    "rank_blockers",
    "registered",
    "run_detectors",
]


@dataclass
class Covered:
    """What specialised detectors already explained, so generic ones do not repeat it."""

    components: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)

    def add(self, blocker: Blocker, *, component: bool) -> None:
        """Cover the blocker's evidence objects, and its component when `component`."""
        if component and blocker.component:
            self.components.add(blocker.component)
        self.objects.update(e.object for e in blocker.evidence)

    def covers(self, signal: Signal) -> bool:
        """True when the signal's object or component is already explained."""
        return signal.object in self.objects or (
            signal.component is not None and signal.component in self.components
        )


Detector = Callable[[Index, Covered], list[Blocker]]


@dataclass(frozen=True)
class Registered:
    """A detector and the layer it reports."""

    run: Detector
    layer: str
    rank: int
    specialised: bool


_REGISTRY: list[Registered] = []


def detector(*, layer: str, rank: int, specialised: bool) -> Callable[[Detector], Detector]:
    """Register a detector of one layer; a layer has exactly one detector and one rank."""

    def register(run: Detector) -> Detector:
        for other in _REGISTRY:
            if other.layer == layer or other.rank == rank:
                raise ValueError(f"{run.__name__}: layer {layer!r} or rank {rank} already taken")
        _REGISTRY.append(Registered(run=run, layer=layer, rank=rank, specialised=specialised))
        _REGISTRY.sort(key=lambda r: (not r.specialised, r.rank))
        return run

    return register


def registered() -> tuple[Registered, ...]:
    """Every detector in the order they run: specialised first, then by rank."""
    return tuple(_REGISTRY)


RankKey = tuple[int, int, int, float, str, str, str]


def rank_blockers(blockers: list[Blocker]) -> list[Blocker]:
    """Most important first: login impact, stuck before retryable, root cause before generic
    layer, the oldest; then layer, component and reason, so equal blockers never swap places
    between two evaluations (issue 10: a flipping headline)."""
    ranks = {r.layer: r.rank for r in _REGISTRY}
    unknown = max(ranks.values(), default=0) + 1

    def key(blocker: Blocker) -> RankKey:
        since = blocker.since.timestamp() if blocker.since else float("inf")
        return (
            0 if blocker.login_blocking else 1,
            1 if blocker.retryable else 0,
            ranks.get(blocker.layer, unknown),
            since,
            blocker.layer,
            blocker.component or "",
            blocker.reason,
        )

    return sorted(blockers, key=key)


def run_detectors(index: Index) -> list[Blocker]:
    """Every registered detector's blockers, ranked (`rank_blockers`)."""
    covered = Covered()
    found: list[Blocker] = []
    for entry in _REGISTRY:
        new = entry.run(index, covered)
        for blocker in new:
            covered.add(blocker, component=entry.specialised)
        found.extend(new)
    return rank_blockers(found)
