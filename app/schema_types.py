"""What the OpenAPI document says about the values many bodies share: ISO codes, amounts, dates, cursors.

The validators stay where they are (`app.fields`, `app.money`); these types make the document state
the same rules, so that a generated client or a fuzzer can tell a request the service takes from one it
refuses: the exact list of codes, an amount's pattern, and per currency how many decimals it may carry."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any

import pycountry
from iso4217 import Currency
from pydantic import BeforeValidator, Field, WithJsonSchema

from app.fields import OFFSET_MESSAGE, UtcDatetime

# An amount greater than zero, as app.fields.AMOUNT_PATTERN bounds it (12 digits, 4 decimals at most).
POSITIVE_AMOUNT_PATTERN = (
    r"^([1-9][0-9]{0,11}(\.[0-9]{1,4})?|0\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"
)
CURSOR_FORMAT = "cursor"  # the decision history's and the review queue's
CUSTOMER_CURSOR_FORMAT = "customer-cursor"  # GET /v1/customers
INVOICE_CURSOR_FORMAT = "invoice-cursor"  # a customer's invoices
# An exchange rate is at least 0.000001 (app.fields.MIN_RATE): what RATE_PATTERN admits below it, refused.
RATE_SCHEMA: dict[str, Any] = {"not": {"pattern": r"^0(\.0{1,5})?$|^0\.0{6}"}}

# A calendar day (29 February aside, which the pattern leaves out), a time, an optional offset.
PROVIDER_DATE_TIME_PATTERN = (
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)-"
    r"((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?$"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _iso_date(value: Any) -> Any:
    """Only the RFC 3339 full-date the document names (pydantic alone also takes 0 or 1.5 as a Unix time)."""
    if isinstance(value, date) or (isinstance(value, str) and _DATE.fullmatch(value)):
        return value
    raise ValueError("must be a date as YYYY-MM-DD")


def _iso_date_time(value: Any) -> Any:
    """The document's date-time, a day of the calendar included: whatever is wrong, one message says it."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_TIME.fullmatch(value):
        try:
            datetime.fromisoformat(value.upper())  # a day and time of the calendar (no 13th month)
            return value
        except ValueError:
            pass
    raise ValueError(OFFSET_MESSAGE)


def json_integer(value: Any) -> Any:
    """A JSON integer (198 or 198.0, as JSON Schema counts them); not true, not "198" (pydantic alone takes both)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    return value


# Bounds go before the validator (`Annotated[int, Field(ge=...), BeforeValidator(json_integer)]`), or the
# document loses them.
JsonInt = Annotated[int, BeforeValidator(json_integer)]


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[UtcDatetime, BeforeValidator(_iso_date_time)]
# A provider's own time stamp, which may come without an offset: RFC 3339 but for the optional offset.
ProviderDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_date_time),
    WithJsonSchema({"type": "string", "pattern": PROVIDER_DATE_TIME_PATTERN}),
]


@cache
def currency_codes() -> tuple[str, ...]:
    """ISO 4217 codes with minor units: the currencies an amount can be in."""
    return tuple(sorted(currency.code for currency in Currency if currency.exponent is not None))


@cache
def country_codes() -> tuple[str, ...]:
    return tuple(sorted(country.alpha_2 for country in pycountry.countries))


CurrencyCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code (a currency with minor units).",
        examples=["EUR"],
        json_schema_extra={"enum": list(currency_codes())},
    ),
]
CountryCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 code.",
        examples=["NL"],
        json_schema_extra={"enum": list(country_codes())},
    ),
]


def _decimals_pattern(exponent: int) -> str:
    """An amount with at most `exponent` decimals."""
    fraction = "" if exponent == 0 else rf"(\.[0-9]{{1,{exponent}}})?"
    return rf"^[0-9]+{fraction}$"


def minor_units_rule(
    currency_field: str, *amounts: tuple[str, ...], required_with_amounts: bool = False
) -> dict[str, Any]:
    """`json_schema_extra` for a body whose amounts (paths of properties) are in its `currency_field`: one
    if/then per exponent; `required_with_amounts`: an amount given needs the currency."""
    by_exponent: dict[int, list[str]] = {}
    for currency in Currency:
        if currency.exponent is not None:
            by_exponent.setdefault(int(currency.exponent), []).append(currency.code)
    rules: list[dict[str, Any]] = [
        {
            "if": {"properties": {currency_field: {"enum": sorted(codes)}}, "required": [currency_field]},
            "then": {"allOf": [_at(path, {"pattern": _decimals_pattern(exponent)}) for path in amounts]},
        }
        for exponent, codes in sorted(by_exponent.items())
    ]
    if required_with_amounts:
        given = {"properties": {currency_field: {"type": "string"}}, "required": [currency_field]}
        rules += [{"if": _at(path, {"type": ["string", "object"]}, required=True), "then": given} for path in amounts]
    return {"allOf": rules}


def _at(path: tuple[str, ...], schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    """`schema` applied to the property at `path` (nested objects), when it is there."""
    for name in reversed(path):
        schema = {"properties": {name: schema}, **({"required": [name]} if required else {})}
    return schema


def cursor_schema(description: str, format_: str = CURSOR_FORMAT) -> dict[str, Any]:
    """A page position: only a `next_cursor` this API returned is one (`format: cursor`, or the list's own)."""
    return {"format": format_, "description": description}
