"""Hypothesis strategies: valid policy documents and the facts an order is decided on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from app.policy.facts import RISK_ORDER, CustomerFacts, ExposureFacts, OrderFacts, ReportFacts
from app.policy.schema import RATED_CLASSES, PolicyDocument, parse_policy

SEGMENT_NAMES = ("key_account", "regular", "new", "strategic")


def money(high: int = 500_000, low: int = 0) -> st.SearchStrategy[Decimal]:
    """Decimal amounts with cents, spread over every order of magnitude up to `high` (not only small ones)."""
    top = len(str(high * 100))

    def up_to(digits: int) -> st.SearchStrategy[int]:
        return st.integers(min_value=low * 100, max_value=max(low * 100, min(high * 100, 10**digits)))

    return st.integers(min_value=0, max_value=top).flatmap(up_to).map(lambda cents: Decimal(cents).scaleb(-2))


shares = st.integers(min_value=0, max_value=100).map(lambda n: Decimal(n).scaleb(-2))


@st.composite
def descending(draw: st.DrawFn, values: st.SearchStrategy[Decimal], optional: bool) -> list[Decimal | None]:
    """Five values from class A to E that never grant a worse class more: unbounded (None) first, then falling."""
    unbounded = draw(st.integers(min_value=0, max_value=5)) if optional else 0
    bounded = sorted(draw(st.lists(values, min_size=5 - unbounded, max_size=5 - unbounded)), reverse=True)
    return [None] * unbounded + list(bounded)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@st.composite
def segment_column(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """The cells of one segment for the classes A–E."""
    rule = draw(st.sampled_from(["share_of_recommended", "fixed", "lower_of"]))
    shares_by_class = draw(descending(shares, optional=False))
    amounts = draw(descending(money(100_000), optional=False))
    caps = draw(descending(money(200_000), optional=True))
    reviews = draw(descending(money(200_000, low=1), optional=True))
    column = {}
    for index, risk_class in enumerate(RATED_CLASSES):
        limit: dict[str, Any] = {"rule": rule}
        if rule != "fixed":
            limit["share"] = _text(shares_by_class[index])
        if rule != "share_of_recommended":
            limit["amount"] = _text(amounts[index])
        column[risk_class] = {
            "limit": limit,
            "cap": _text(caps[index]),
            "payment_terms_days": draw(st.integers(min_value=0, max_value=90)),
            "review_above": _text(reviews[index]),
        }
    return column


@st.composite
def policies(draw: st.DrawFn) -> PolicyDocument:
    """Any valid policy document, built as a credit manager would write it and parsed by the schema."""
    segments = draw(st.lists(st.sampled_from(SEGMENT_NAMES), min_size=1, max_size=3, unique=True))
    grid: dict[str, dict[str, Any]] = {risk_class: {} for risk_class in (*RATED_CLASSES, "unknown")}
    for segment in segments:
        for risk_class, cell in draw(segment_column()).items():
            grid[risk_class][segment] = cell
        grid["unknown"][segment] = {
            "limit": {"rule": "fixed", "amount": _text(draw(money(20_000)))},
            "payment_terms_days": draw(st.integers(min_value=0, max_value=60)),
            "review_above": _text(draw(st.none() | money(50_000, low=1))),
        }
    full_from = draw(st.integers(min_value=0, max_value=5))
    full_classes = list(RATED_CLASSES[full_from:]) + (["unknown"] if draw(st.booleans()) else [])
    bands = sorted(draw(st.lists(st.integers(min_value=0, max_value=100), min_size=4, max_size=4, unique=True)))
    action = draw(st.sampled_from(["review", "prepayment", "accept_up_to"]))
    document = {
        "version": "generated-1",
        "currency": "EUR",
        "segments": segments,
        "default_segment": draw(st.sampled_from(segments)),
        "score_bands": dict(zip("ABCD", reversed(bands), strict=True)),
        "grid": grid,
        "prepayment": {"minimum_share": _text(draw(shares)), "full_prepayment_classes": full_classes},
        "stop": {
            "overdue_days_tolerance": draw(st.integers(min_value=0, max_value=90)),
            "overdue_amount_tolerance": _text(draw(money(10_000))),
            "outcome": draw(st.sampled_from(["prepayment", "review", "reject"])),
        },
        "small_orders": {"threshold": _text(draw(money(1_000)))},
        "new_customers": {"first_order_cap": _text(draw(st.none() | money(20_000)))},
        "provider_unavailable": {
            "action": action,
            "accept_up_to": _text(draw(money(5_000))) if action == "accept_up_to" else None,
        },
        "company_not_found": draw(st.sampled_from(["review", "prepayment", "reject"])),
        "reports": {"max_age_days": draw(st.integers(min_value=0, max_value=365))},
    }
    return parse_policy(document)


orders = st.builds(
    OrderFacts, order_id=st.just("SO-1"), amount=money(300_000, low=0).filter(bool), currency=st.just("EUR")
)

customers = st.builds(
    CustomerFacts,
    customer_id=st.just("C-1"),
    segment=st.none() | st.sampled_from((*SEGMENT_NAMES, "unlisted")),
    blocked=st.booleans(),
    manual_limit=st.none() | money(200_000),
    first_order=st.booleans(),
)

reports = st.builds(
    ReportFacts,
    source=st.sampled_from(["fresh", "cache", "stale", "none", "unavailable", "not_found"]),
    risk_class=st.none() | st.sampled_from(RISK_ORDER),
    score=st.none() | st.integers(min_value=0, max_value=100),
    recommended_limit=st.none() | money(500_000),
    provider=st.just("simulated"),
)

exposures = st.builds(
    ExposureFacts,
    open_receivables=money(200_000),
    reserved=money(100_000),
    # Mostly near the default tolerances (30 days, 1000.00), where the stop rules switch.
    overdue_amount=st.just(Decimal(0)) | money(2_000) | money(20_000),
    oldest_overdue_days=st.integers(min_value=0, max_value=60) | st.integers(min_value=0, max_value=180),
)
