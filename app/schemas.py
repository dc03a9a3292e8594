"""The API types every domain's request and response bodies share: identifiers, money strings, the strict
body base and the currency check. Below every domain, so their schemas never import one another for these."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.fields import AMOUNT_PATTERN, parse_amount
from app.money import minor_units

__all__ = ["AMOUNT_PATTERN", "Body", "Identifier", "Money", "check_currency", "parse_amount", "vat_within"]

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
Money = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["1250.00"])]


class Body(BaseModel):
    """A request body: unknown fields are refused, strings kept as sent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def check_currency(value: str) -> str:
    minor_units(value)  # ValueError for unknown codes and for currencies without minor units
    return value


def vat_within(value: Any, amount: str | None, currency: str | None) -> str | None:
    """An optional VAT amount: a money string in the currency's units, at most the amount it is part of."""
    if value is None:
        return None
    vat = parse_amount(value, currency, allow_zero=True)
    if amount is not None and vat > parse_amount(amount, None):
        raise ValueError("must not exceed the amount it is part of")
    return str(value)
