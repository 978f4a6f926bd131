"""Label and field selectors with the syntax and semantics of the Kubernetes API server."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.selector_syntax import (
    SyntaxProblem,
    field_label_refusal,
    parse_field_terms,
    parse_requirements,
)
from simulator.errors import SimulatorError

__all__ = [
    "SUPPORTED_FIELDS",
    "FieldSelector",
    "LabelSelector",
    "SelectorError",
    "check_field_selector",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_match",
    "selector_text",
]


class SelectorError(SimulatorError, ValueError):
    """A selector string the API server would reject (answered 400 BadRequest)."""


@dataclass(frozen=True)
class _Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("gt", "lt"):
            # Integer comparison; a label that is no integer never matches (as apimachinery's).
            try:
                number, bound = int(value or ""), int(self.values[0])
            except ValueError:
                return False
            return number > bound if self.op == "gt" else number < bound
        # "!=" and "notin" match objects without the label, like the real server.
        return not present or value not in self.values


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[_Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """True when every requirement holds for `labels`."""
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h,n>1`; SelectorError with apimachinery's text
    when malformed."""
    if not text or not text.strip():
        return LabelSelector()
    try:
        found = parse_requirements(text)
    except SyntaxProblem as exc:
        raise SelectorError(str(exc)) from exc
    return LabelSelector(tuple(_Requirement(key, op, values) for key, op, values in found))


def selector_from_match(selector: Mapping[str, Any] | None) -> LabelSelector:
    """Build a selector from a `matchLabels`/`matchExpressions` object (e.g. a Deployment's)."""
    if not selector:
        return LabelSelector()
    reqs = [_Requirement(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(str(expr.get("operator")))
        if op is None:
            raise SelectorError(f"unknown matchExpressions operator {expr.get('operator')!r}")
        vals = tuple(str(v) for v in expr.get("values") or ())
        reqs.append(_Requirement(str(expr.get("key")), op, vals))
    return LabelSelector(tuple(reqs))


def _lookup(obj: Mapping[str, Any], path: str) -> str | None:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if node is None:
        return None
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def _event_source(event: Mapping[str, Any]) -> str | None:
    """An Event's `source` field label: its source's component, else who reported it (core's
    ToSelectableFields; only Events have the label)."""
    source = event.get("source")
    component = source.get("component") if isinstance(source, Mapping) else None
    return str(component or event.get("reportingComponent") or "") or None


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: `path=value` / `path!=value` terms over dotted object paths."""

    terms: tuple[tuple[str, bool, str], ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """True when every term holds; a missing field compares as the empty string."""
        for path, equal, value in self.terms:
            actual = (_event_source(obj) if path == "source" else _lookup(obj, path)) or ""
            if (actual == value) != equal:
                return False
        return True

    @property
    def name(self) -> str | None:
        """The `metadata.name=X` term, if any (lets the store look up one object directly)."""
        for path, equal, value in self.terms:
            if path == "metadata.name" and equal:
                return value
        return None


def parse_field_selector(text: str | None) -> FieldSelector:
    """Parse `metadata.name=x,status.phase!=Running`; SelectorError with apimachinery's text
    when malformed."""
    if not text:
        return FieldSelector()
    try:
        return FieldSelector(tuple(parse_field_terms(text)))
    except SyntaxProblem as exc:
        raise SelectorError(str(exc)) from exc


Matcher = Callable[[Mapping[str, Any]], bool]

# The field labels the API server accepts per (group, resource); anything else is a 400, so code
# that works here cannot rely on a selector a real cluster rejects.
_COMMON_FIELDS = frozenset({"metadata.name", "metadata.namespace"})
_EVENT_FIELDS = frozenset(
    {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    }
)
SUPPORTED_FIELDS: dict[tuple[str, str], frozenset[str]] = {
    ("", "pods"): frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        }
    ),
    ("", "events"): _EVENT_FIELDS,
    ("events.k8s.io", "events"): frozenset(
        {
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "type",
        }
    ),
    ("", "secrets"): frozenset({"type"}),
    ("", "namespaces"): frozenset({"status.phase"}),
    ("", "nodes"): frozenset({"spec.unschedulable"}),
    ("", "persistentvolumeclaims"): frozenset(),
    ("", "replicationcontrollers"): frozenset({"status.replicas"}),
    ("apps", "replicasets"): frozenset({"status.replicas"}),
    ("batch", "jobs"): frozenset({"status.successful"}),
    ("", "services"): frozenset({"spec.clusterIP", "spec.type"}),
    ("certificates.k8s.io", "certificatesigningrequests"): frozenset({"spec.signerName"}),
    ("certificates.k8s.io", "clustertrustbundles"): frozenset({"spec.signerName"}),
    ("certificates.k8s.io", "podcertificaterequests"): frozenset(
        {"spec.signerName", "spec.podName", "spec.nodeName"}
    ),
    ("resource.k8s.io", "resourceslices"): frozenset(
        {"spec.nodeName", "spec.driver", "spec.pool.name"}
    ),
}
# The kinds whose own field label conversion (pkg/apis/*/v1/conversion.go) does not name
# metadata.namespace: refused there, though every other kind takes it.
_NO_NAMESPACE_LABEL = frozenset(
    {
        ("", "nodes"),
        ("", "namespaces"),
        ("certificates.k8s.io", "certificatesigningrequests"),
        ("certificates.k8s.io", "clustertrustbundles"),
        ("certificates.k8s.io", "podcertificaterequests"),
        ("resource.k8s.io", "resourceslices"),
    }
)


def check_field_selector(selector: FieldSelector, info: KindInfo) -> None:
    """Raise SelectorError for a field label the API server does not support for this resource
    (a custom resource's: its CRD's selectable fields)."""
    own = (
        frozenset(info.selectable)
        if info.crd_name
        else SUPPORTED_FIELDS.get((info.group, info.plural), frozenset())
    )
    common = _COMMON_FIELDS
    if (info.group, info.plural) in _NO_NAMESPACE_LABEL:
        common = common - {"metadata.namespace"}
    for path, _, _ in selector.terms:
        if path not in common | own:
            raise SelectorError(field_label_refusal(info.group, info.plural, path, info.crd_name))


def selector_text(selector: Any) -> str:
    """A label selector object in its string form, as apimachinery's `labels.Selector.String()`
    writes it: requirements by key, values sorted (`app=web,tier in (a,b)`); a plain map (a
    ReplicationController's or a Service's selector) as `k=v` pairs by key."""
    if not isinstance(selector, dict):
        return ""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    parts = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, op = str(expression.get("key")), expression.get("operator")
        values = ",".join(sorted(str(v) for v in expression.get("values") or []))
        shown = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}
        parts.append((key, shown.get(str(op), f"!{key}")))
    return ",".join(text for _, text in sorted(parts, key=lambda part: part[0]))
