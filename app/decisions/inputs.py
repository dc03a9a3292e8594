"""From stored rows to what the evaluator reads: the customer's facts, its exposure and the rates used."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from app.customers.exposure import Exposure
from app.customers.models import CustomerRecord
from app.customers.rates import RateTable
from app.fields import utc_text
from app.insurance.covers import coverage, is_in_force
from app.insurance.models import CoverRecord
from app.money import from_minor
from app.policy.facts import CoverFacts, CustomerFacts, ExposureFacts, TradingFacts
from app.policy.schema import PolicyDocument


def customer_facts(
    customer: CustomerRecord, root: CustomerRecord | None, *, first_order: bool, now: datetime
) -> CustomerFacts:
    """Master data as facts; a manual limit past its expiry is marked so. `root` is a group root with a limit."""
    manual = customer.manual_limit_minor is not None and customer.limit_currency is not None
    expires = customer.manual_limit_expires_at
    # An expired manual limit stays in the facts, marked: the policy says what it falls back to.
    expired = manual and expires is not None and expires <= now
    uplift = _uplift_in_force(customer, now)
    return CustomerFacts(
        customer.id,
        segment=customer.segment,
        blocked=customer.blocked,
        block_reason=customer.block_reason,
        manual_limit=_amount(customer.manual_limit_minor, customer.limit_currency) if manual else None,
        manual_limit_reason=customer.manual_limit_reason if manual else None,
        manual_limit_expired_at=utc_text(expires) if expired and expires is not None else None,
        first_order=first_order,
        limit_currency=customer.limit_currency if manual else None,
        group_id=root.id if root is not None else customer.parent_id,
        group_limit=_amount(root.group_limit_minor, root.limit_currency) if root is not None else None,
        group_limit_currency=root.limit_currency if root is not None else None,
        uplift=uplift,
        uplift_currency=customer.limit_currency if uplift is not None else None,
        uplift_ends_at=utc_text(customer.uplift_ends_at) if uplift is not None and customer.uplift_ends_at else None,
    )


def _uplift_in_force(customer: CustomerRecord, now: datetime) -> Decimal | None:
    """The temporary uplift when `now` is inside its period: it ends by itself, no job clears it."""
    if customer.uplift_minor is None or customer.limit_currency is None:
        return None
    starts, ends = customer.uplift_starts_at, customer.uplift_ends_at
    if (starts is not None and now < starts) or (ends is not None and now >= ends):
        return None
    return from_minor(customer.uplift_minor, customer.limit_currency)


def exposure_facts(own: Exposure, group: Exposure | None) -> ExposureFacts:
    unpriced = {*own.unpriced_currencies, *(group.unpriced_currencies if group is not None else ())}
    return ExposureFacts(
        open_receivables=own.open_receivables,
        reserved=own.reserved,
        overdue_amount=own.overdue_amount,
        oldest_overdue_days=own.oldest_overdue_days,
        group_total=group.total if group is not None else None,
        unpriced_currencies=tuple(sorted(unpriced)),
        vat=own.vat,
    )


def cover_facts(cover: CoverRecord | None, today: date) -> CoverFacts | None:
    """The customer's cover as a fact, when one is in force today; None otherwise."""
    if cover is None or not is_in_force(cover, today):
        return None
    return CoverFacts(
        amount=from_minor(cover.amount_minor, cover.currency),
        currency=cover.currency,
        coverage=coverage(cover),
        excludes_vat=cover.excludes_vat,
        insurer=cover.insurer,
        reference=cover.buyer_reference,
    )


def rates_used(
    order_currency: str, rates: RateTable, exposures: Iterable[Exposure | None], currencies: Iterable[str | None]
) -> dict[str, Decimal]:
    """The rates a decision reads (order-currency units per one unit of each), stored with it for replay."""
    used: dict[str, Decimal] = {}
    for exposure in exposures:
        if exposure is not None:
            used.update(exposure.rates_used)
    for currency in currencies:
        if currency is None or currency == order_currency:
            continue
        rate = rates.rate(order_currency, currency)
        if rate is not None:
            used[currency] = rate
    return dict(sorted(used.items()))


def _amount(minor: int | None, currency: str | None) -> Decimal | None:
    return None if minor is None or currency is None else from_minor(minor, currency)


def needs_trading(policy: PolicyDocument) -> bool:
    """Whether the policy's discretionary limit asks for the trading history (else it is not read)."""
    insurance = policy.insurance
    return insurance is not None and insurance.discretionary is not None


def trading_facts(history: tuple[date | None, int] | None, today: date) -> TradingFacts:
    first, worst = history or (None, 0)
    return TradingFacts(trading_days=None if first is None else max(0, (today - first).days), worst_days_late=worst)
