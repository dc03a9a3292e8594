"""Money at the edges: minor units to the API's decimal strings and back, exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.money import format_minor, from_minor, to_minor

# Currencies with 2, 0 and 3 minor digits.
CURRENCIES = ("EUR", "JPY", "KWD")


@given(units=st.integers(min_value=-(10**17), max_value=10**17), currency=st.sampled_from(CURRENCIES))
def test_a_formatted_amount_is_the_exact_decimal_of_its_minor_units(units: int, currency: str) -> None:
    text = format_minor(units, currency)

    assert text == str(from_minor(units, currency))
    assert "E" not in text
    assert to_minor(Decimal(text), currency) == units


@pytest.mark.parametrize(
    ("units", "currency", "text"),
    [(125000, "EUR", "1250.00"), (5, "EUR", "0.05"), (0, "EUR", "0.00"), (-5, "EUR", "-0.05"), (1250, "JPY", "1250"),
     (1, "KWD", "0.001"), (-123456, "KWD", "-123.456")],
)  # fmt: skip
def test_known_amounts(units: int, currency: str, text: str) -> None:
    assert format_minor(units, currency) == text
