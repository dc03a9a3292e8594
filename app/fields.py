"""What every request field of one kind accepts: money strings, rates, times with an offset, free text.

The checks live here once so that an amount, a time or a name is refused with the same words wherever it is
sent, and the patterns are the ones the OpenAPI document states.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from app.money import MAX_AMOUNT, MAX_AMOUNT_DIGITS, minor_units, quantize

AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,4})?$"
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")

# Units of a currency per one unit of another: positive, 12 decimals at most, and within six orders of
# magnitude either way, so that a converted limit or exposure stays within what an amount may be.
RATE_PATTERN = r"^(0|[1-9][0-9]{0,5})(\.[0-9]{1,12})?$"
MIN_RATE = Decimal("0.000001")
_RATE = re.compile(RATE_PATTERN.strip("^$"))

# One wording for every time refused, whether it is no date-time at all or one without its offset.
OFFSET_MESSAGE = "must be an RFC 3339 date-time with a UTC offset, e.g. 2026-11-23T10:00:00Z"

# Bidirectional overrides, embeddings and isolates reorder what a reader sees (an invoice id shown backwards).
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def parse_amount(value: Any, currency: str | None, *, allow_zero: bool = False) -> Decimal:
    """A money amount as the API takes it: a plain decimal string, positive, bounded, in the currency's units."""
    if not isinstance(value, str):
        raise ValueError('amounts are decimal strings, e.g. "1250.00"')
    if value.startswith("-") and _DECIMAL.fullmatch(value[1:]):
        raise ValueError("must be greater than zero" if not allow_zero else "must not be negative")
    if not _DECIMAL.fullmatch(value):
        raise ValueError('not a plain decimal amount such as "1250.00"')
    whole = value.split(".", 1)[0]
    if len(whole) > 1 and whole.startswith("0"):
        raise ValueError('not a plain decimal amount such as "1250.00" (no leading zeros)')
    amount = Decimal(value)
    if amount >= MAX_AMOUNT:
        raise ValueError(f"must be less than {MAX_AMOUNT:,.0f} (at most {MAX_AMOUNT_DIGITS} digits before the point)")
    if amount <= 0 and not (allow_zero and amount == 0):
        raise ValueError("must be greater than zero")
    decimals = len(value) - len(whole) - 1 if "." in value else 0
    if currency is not None:
        try:
            places = minor_units(currency)
        except ValueError:
            return amount  # the currency is refused on its own field
        if decimals > places:
            raise ValueError(f"more decimals than {currency} has ({places})")
    elif decimals > 4:
        raise ValueError("at most 4 decimals")
    return amount


def parse_rate(value: Any) -> Decimal:
    """An exchange rate: a plain decimal string between 0.000001 and 999999.999999999999, 12 decimals at most."""
    if not isinstance(value, str):
        raise ValueError('rates are decimal strings, e.g. "1.0850"')
    if not _DECIMAL.fullmatch(value):
        raise ValueError('not a plain decimal rate such as "1.0850"')
    if not _RATE.fullmatch(value):
        raise ValueError("must be less than 1000000 with at most 12 decimals")
    try:
        rate = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError("not a decimal rate") from None
    if rate < MIN_RATE:
        raise ValueError(f"must be at least {MIN_RATE}")
    return rate


def in_utc(value: datetime) -> datetime:
    """A time with an offset, as UTC; a naive one, or one whose UTC instant leaves the calendar, is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(OFFSET_MESSAGE)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 once in UTC") from None


def utc_text(value: datetime) -> str:
    """A stored time as the API writes every time: UTC with a `Z`, as pydantic serialises one."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def money_text(amount: Decimal, currency: str | None) -> str:
    """An amount as the API writes money, with its currency's minor units ("5000" in EUR is "5000.00"). Digits
    beyond them are never rounded away, and an amount in no or no ISO currency stays as it is."""
    if currency is None:
        return str(amount)
    try:
        padded = quantize(amount, currency)
    except ValueError:
        return str(amount)
    return str(padded) if padded == amount else str(amount)


def days_before(day: date, days: int) -> date:
    """`day` less `days` days, or the calendar's first day when that would come before it."""
    return date.min if (day - date.min).days < days else day - timedelta(days=days)


def check_text(value: str, *, multiline: bool = False) -> str:
    """Free text (a name, a reason): no control characters (tab and newline in multi-line text) and no
    bidirectional controls, which would make what a reader sees differ from what is stored."""
    for char in value:
        if char in _BIDI_CONTROLS:
            raise ValueError(f"must not contain the bidirectional control U+{ord(char):04X}")
        if unicodedata.category(char) in ("Cc", "Cs") and not (multiline and char in "\n\t"):
            raise ValueError(f"must not contain the control character U+{ord(char):04X}")
    return value


def _multiline(value: str) -> str:
    return check_text(value, multiline=True)


# What check_text refuses, as the document's patterns: controls (C0, DEL, C1) and bidi controls (a lone
# surrogate cannot be written in a pattern, and no UTF-8 body can carry one).
_REFUSED = r"\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
TEXT_PATTERN = rf"^[^\u0000-\u001f{_REFUSED}]*$"
MULTILINE_TEXT_PATTERN = rf"^[^\u0000-\u0008\u000b-\u001f{_REFUSED}]*$"

UtcDatetime = Annotated[datetime, AfterValidator(in_utc)]
Name = Annotated[
    str, Field(min_length=1, max_length=200, json_schema_extra={"pattern": TEXT_PATTERN}), AfterValidator(check_text)
]
Text = Annotated[str, Field(json_schema_extra={"pattern": MULTILINE_TEXT_PATTERN}), AfterValidator(_multiline)]
