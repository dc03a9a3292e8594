"""How the console writes amounts, times, outcomes and reasons for people."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

OUTCOME_WORDS = {
    "accept": "Accepted on credit",
    "prepayment": "Prepayment asked",
    "review": "Sent to review",
    "reject": "Rejected",
}
SOURCE_WORDS = {
    "fresh": "bought for this decision",
    "cache": "from the report cache",
    "stale": "an expired report (no provider was available)",
    "none": "no report was needed",
    "unavailable": "no provider was available",
    "not_found": "the provider does not know the company",
}


def money(amount: Any, currency: str | None = None) -> str:
    """1234567.5 → '1,234,567.50 EUR'; keeps the decimal places the API gave."""
    if amount is None or amount == "":
        return "—"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    exponent = value.as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 2
    text = f"{value:,.{places}f}"
    return f"{text} {currency}" if currency else text


def when(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def outcome_words(outcome: str) -> str:
    return OUTCOME_WORDS.get(outcome, outcome)


def source_words(source: str | None) -> str:
    return SOURCE_WORDS.get(source or "", source or "—")


def code_words(code: str) -> str:
    """FIRST_ORDER_CAP → 'First order cap'."""
    return code.replace("_", " ").capitalize()


def fact_words(name: str) -> str:
    return name.replace("_", " ")


def parse_day(value: str, field: str, errors: dict[str, str]) -> date | None:
    """A form's YYYY-MM-DD day; a wrong one is named in `errors` for the form to show."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = "Enter a date as YYYY-MM-DD."
        return None


def start_of_day(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


FILTERS = {
    "money": money,
    "when": when,
    "outcome_words": outcome_words,
    "source_words": source_words,
    "code_words": code_words,
    "fact_words": fact_words,
}
