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


KNOWN: tuple[Known, ...] = (
    Known(
        "managedFields",
        "the fake API does not track field ownership (server-side apply, issue 12 gap 9)",
        lambda _request, difference: "managedFields" in difference,
    ),
    Known(
        "OpenAPI",
        "the fake API's OpenAPI documents are partial (issue 12 gap 10)",
        lambda request, _difference: request.path.startswith("/openapi/"),
    ),
)


def known_labels(request: CorpusRequest, differences: tuple[str, ...]) -> tuple[str, ...]:
    """The labels of the known differences that explain all of `differences`; () when one of
    them is not known (or there are none)."""
    labels: list[str] = []
    for difference in differences:
        found = next((k for k in KNOWN if k.matches(request, difference)), None)
        if found is None:
            return ()
        if found.label not in labels:
            labels.append(found.label)
    return tuple(labels)
