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


RISK_WORDS = {
    "A": "very low risk",
    "B": "low risk",
    "C": "moderate risk",
    "D": "high risk",
    "E": "very high risk",
    "insolvent": "insolvent",
}
STATUS_WORDS = {"active": "Active, trading", "inactive": "Inactive: no longer trading", "insolvent": "Insolvent"}


def risk_words(risk_class: Any) -> str:
    """'A' → 'A (very low risk)'; a class the console does not know is shown as it is."""
    if risk_class in (None, ""):
        return "not rated"
    if risk_class == "insolvent":
        return "Insolvent"
    words = RISK_WORDS.get(str(risk_class))
    return f"{risk_class} ({words})" if words else str(risk_class)


def report_words(snapshot: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A stored report snapshot as (label, sentence) pairs for a reader; the raw payload's hash is left out."""
    if not snapshot:
        return []
    company = snapshot.get("company_name") or "Name not given"
    number = snapshot.get("registration_number")
    identity = f"{company} ({snapshot.get('country', '—')}{', no. ' + str(number) if number else ''})"
    score = snapshot.get("score")
    limit = snapshot.get("recommended_limit")
    late = snapshot.get("days_beyond_terms")
    events = snapshot.get("negative_events") or []
    if late is None:
        paying = "not reported"
    elif int(late) <= 0:
        paying = "pays on time"
    else:
        paying = f"pays {late} day{'s' if int(late) != 1 else ''} late on average"
    rows = [
        ("Company", identity),
        ("Status", STATUS_WORDS.get(str(snapshot.get("status")), str(snapshot.get("status") or "not reported"))),
        ("Risk class", risk_words(snapshot.get("risk_class"))),
        ("Score", f"{score} of 100 (higher is safer)" if score is not None else "not given"),
        (
            "Recommended limit",
            money(limit, snapshot.get("limit_currency")) if limit is not None else "none recommended",
        ),
        ("Payment behaviour", paying),
        ("Negative events", ", ".join(fact_words(str(event)) for event in events) if events else "none reported"),
        ("Source", f"{snapshot.get('provider', '—')}, reference {snapshot.get('reference', '—')}"),
        ("Fetched", when(snapshot.get("fetched_at"))),
    ]
    if snapshot.get("cost") is not None:
        rows.append(("Cost", money(snapshot.get("cost"), snapshot.get("cost_currency"))))
    return rows


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
    "risk_words": risk_words,
    "report_words": report_words,
}
