"""Labels and label selectors as apimachinery validates them (metav1 validation's
ValidateLabels and ValidateLabelSelector, in its words): a node selector's, a Service's
selector, a workload's or a budget's selector. (Object metadata's own labels: object_meta.py.)
"""

from __future__ import annotations

from typing import Any

from simulator.api.names import label_key_errors, label_value_errors
from simulator.api.store.go_values import bad_value

__all__ = ["labels_errors", "selector_errors"]


def labels_errors(labels: Any, path: str) -> list[str]:
    """ValidateLabels: each key, then its value, as a label's, at `path` itself."""
    errors: list[str] = []
    for key, value in labels.items() if isinstance(labels, dict) else ():
        text = "" if value is None else str(value)
        for shown, messages in ((key, label_key_errors(key)), (text, label_value_errors(text))):
            errors += [f"{path}: Invalid value: {bad_value(shown)}: {m}" for m in messages]
    return errors


def selector_errors(selector: dict[str, Any], path: str) -> list[str]:
    """ValidateLabelSelector: matchLabels as labels, each matchExpression's operator, key and
    values (strictly: AllowInvalidLabelValueInSelector is off for workloads)."""
    errors: list[str] = []
    errors += labels_errors(selector.get("matchLabels"), f"{path}.matchLabels")
    expressions = selector.get("matchExpressions")
    for i, expression in enumerate(expressions if isinstance(expressions, list) else []):
        if not isinstance(expression, dict):
            continue
        at, operator = f"{path}.matchExpressions[{i}]", expression.get("operator")
        values = expression.get("values") or []
        if operator in ("In", "NotIn") and not values:
            errors.append(
                f"{at}.values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
            )
        elif operator in ("Exists", "DoesNotExist") and values:
            errors.append(
                f"{at}.values: Forbidden: may not be specified when `operator` is 'Exists' or "
                "'DoesNotExist'"
            )
        elif operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            shown = f"{at}.operator: Invalid value: {bad_value(operator)}"
            errors.append(f"{shown}: not a valid selector operator")
        key = str(expression.get("key") or "")
        errors += [f"{at}.key: Invalid value: {bad_value(key)}: {m}" for m in label_key_errors(key)]
        for v, value in enumerate(values if isinstance(values, list) else []):
            errors += [
                f"{at}.values[{v}]: Invalid value: {bad_value(value)}: {m}"
                for m in label_value_errors(str(value))
            ]
    return errors
