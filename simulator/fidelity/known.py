"""Differences between the fake API and kube-apiserver that are known, with their reasons.

A comparison whose every difference is one of these is counted apart from the identical ones
(never as identical): the table marks it, and docs/simulator-api.md says why each is left. The
list is short on purpose; a difference that is not here is a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simulator.fidelity.corpus import CorpusRequest

__all__ = ["KNOWN", "Known", "known_labels"]


@dataclass(frozen=True)
class Known:
    """One known difference: its short label and the rule that recognises it."""

    label: str
    reason: str
    matches: Callable[[CorpusRequest, str], bool]


# Field ownership, the OpenAPI documents of built-in kinds, discovery and, last, a CRD's OpenAPI
# document (`simulator/api/openapi_crd.py`) were fixed in the fake API (docs/simulator-api.md,
# "Request by request"): no difference is known now, so every one is a finding.
KNOWN: tuple[Known, ...] = ()


def known_labels(
    request: CorpusRequest, differences: tuple[str, ...], known: tuple[Known, ...] = KNOWN
) -> tuple[str, ...]:
    """The labels of the `known` differences that explain all of `differences`; () when one of
    them is not known (or there are none)."""
    labels: list[str] = []
    for difference in differences:
        found = next((k for k in known if k.matches(request, difference)), None)
        if found is None:
            return ()
        if found.label not in labels:
            labels.append(found.label)
    return tuple(labels)
