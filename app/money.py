"""Money at the edges: ISO 4217 minor units, exact decimal strings, integer minor units inside."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

import pycountry
from iso4217 import Currency

# Every amount has at most 12 digits before the point (less than a trillion units) and at most 4 after it
# (ISO 4217's largest exponent): at most 10^16 minor units, so any realistic sum of amounts fits 64 bits.
MAX_AMOUNT_DIGITS = 12
MAX_AMOUNT = Decimal(10) ** MAX_AMOUNT_DIGITS


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """Digits after the decimal point for an ISO 4217 currency; ValueError if it has none or is unknown."""
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code") from None
    if exponent is None:
        raise ValueError(f"{currency!r} has no minor units and cannot be invoiced")
    return int(exponent)


@lru_cache(maxsize=512)
def is_country(code: str) -> bool:
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact conversion of an amount with at most the currency's decimals to integer minor units."""
    scaled = amount.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"more decimals than {currency} has")
    return int(scaled)


def from_minor(units: int, currency: str) -> Decimal:
    digits = minor_units(currency)
    return Decimal(units).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def format_minor(units: int, currency: str) -> str:
    """Integer minor units as the API's decimal string ("1250.00"), by integer arithmetic: it runs for every
    amount of every page of the history."""
    digits = minor_units(currency)
    if digits == 0:
        return str(units)
    whole, part = divmod(abs(units), 10**digits)
    return f"{'-' if units < 0 else ''}{whole}.{part:0{digits}d}"


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-even to the currency's minor units (used for derived amounts such as shares)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_EVEN)
