"""Resource quantities read as apimachinery's resource.Quantity reads them: what it accepts
(its parser is looser than its documented expression), what it refuses and in which words, and
the values the request/limit and resize rules compare."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.api.quantities import FORMAT_WRONG, quantity_error, quantity_value

SUFFIX_WRONG = "unable to parse quantity's suffix"


@pytest.mark.parametrize(
    "text", ["0", "1", "1.5", ".5", "1.", "500m", "2Gi", "1e3", "1E-3", "+1Ki", "-1", "m", "1.G"]
)
def test_what_parse_quantity_reads(text: str) -> None:
    assert quantity_error(text) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", FORMAT_WRONG),
        ("abc", FORMAT_WRONG),
        ("1Q", FORMAT_WRONG),
        ("1.2.3", FORMAT_WRONG),
        ("1 Gi", FORMAT_WRONG),
        ("1ki", SUFFIX_WRONG),
        ("1e", SUFFIX_WRONG),
        ("1e+", SUFFIX_WRONG),
        ("1Mi5", SUFFIX_WRONG),
        ("1mi", SUFFIX_WRONG),
    ],
)
def test_what_parse_quantity_refuses_in_its_words(text: str, words: str) -> None:
    assert quantity_error(text) == words


@pytest.mark.parametrize(
    ("text", "value"),
    [("2Gi", Decimal(2 * 1024**3)), ("500m", Decimal("0.5")), ("1e3", Decimal(1000)), ("x", 0)],
)
def test_values_compare_as_kube_apiserver_compares_them(text: str, value: Decimal) -> None:
    assert quantity_value(text) == value
