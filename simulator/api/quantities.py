"""A resource quantity's value (apimachinery's resource.Quantity as it compares): `2Gi`, `500m`,
`1e3`, `1.5` as exact decimals, so that the rules that compare two quantities (a request and
its limit, a claim's new size and its old) compare them as kube-apiserver does.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["FORMAT_WRONG", "quantity_error", "quantity_value"]

FORMAT_WRONG = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
_SUFFIX_WRONG = "unable to parse quantity's suffix"
# parseQuantityString's shape: sign, digits, a fraction, suffix letters, a signed exponent.
_SHAPE = re.compile(r"[+-]?[0-9]*(?:\.[0-9]*)?(?P<suffix>[eEinumkKMGTP]*(?:[-+]?[0-9]*))")
_EXPONENT = re.compile(r"[eE][+-]?[0-9]+")

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_SUFFIX = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    **{s: Decimal(1024**n) for n, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), start=1)},
}


def quantity_value(value: object) -> Decimal:
    """A resource quantity's value (0 when absent or unreadable: its own check says so)."""
    found = _QUANTITY.match(str(value)) if value is not None else None
    if found is None:
        return Decimal(0)
    number, suffix = found.group(1), found.group(2) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number) * Decimal(10) ** int(suffix[1:])
        return Decimal(number) * _SUFFIX[suffix]
    except (InvalidOperation, KeyError):
        return Decimal(0)


def quantity_error(text: str) -> str | None:
    """Why resource.ParseQuantity refuses `text` (its words), or None when it reads it."""
    if text == "":
        return FORMAT_WRONG
    found = _SHAPE.fullmatch(text)
    if found is None:
        return FORMAT_WRONG
    suffix = found.group("suffix")
    if suffix in _SUFFIX or _EXPONENT.fullmatch(suffix):
        return None
    return _SUFFIX_WRONG
