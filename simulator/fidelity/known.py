"""Differences between the fake API and kube-apiserver that are known, with their reasons.

A comparison whose every difference is one of these is counted apart from the identical ones
(never as identical): the table marks it, and docs/simulator-api.md says why each is left. The
list is short on purpose; a difference that is not here is a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simulator.api.kind_table import BUILTIN_KINDS
from simulator.fidelity.corpus import CorpusRequest

__all__ = ["KNOWN", "Known", "known_labels"]


@dataclass(frozen=True)
class Known:
    """One known difference: its short label and the rule that recognises it."""

    label: str
    reason: str
    matches: Callable[[CorpusRequest, str], bool]


_BUILT_IN_GROUPS = frozenset(info.group for info in BUILTIN_KINDS)


def _custom_document(request: CorpusRequest) -> bool:
    """`/openapi/v3/apis/<group>/<version>` of a group no built-in kind is in: a CRD's."""
    parts = request.path.split("/")
    return (
        parts[1:4] == ["openapi", "v3", "apis"]
        and len(parts) == 6
        and (parts[4] not in _BUILT_IN_GROUPS)
    )


# Field ownership, the OpenAPI documents of built-in kinds and discovery were fixed in the fake
# API (docs/simulator-api.md, "Request by request"); this one is left, with its reason.
KNOWN: tuple[Known, ...] = (
    Known(
        "CRD OpenAPI",
        "the fake API builds a custom resource's OpenAPI v3 document from its CRD's schema with "
        "the operations kubectl's verifiers read; apiextensions-apiserver's also describes every "
        "operation's parameters and responses",
        lambda request, _difference: _custom_document(request),
    ),
)


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
