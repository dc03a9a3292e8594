"""Policy rules applied outside the evaluator too, each in one place.

The decision service asks the small-order rule before it buys a report, and the monitor asks the overdue
rule (with the customer's kept payment arrangements) when it reassesses a customer; the evaluator asks both
for a decision's outcome and reasons. One function each, so a report is bought exactly when the decision's
reasons say one was needed, and the monitor flags exactly the customers a decision would stop.

`rates` is the evaluator's mapping: units of the target currency per one unit of each other currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from app.money import minor_units, quantize
from app.policy.arrangements import ArrangementFacts
from app.policy.schema import PolicyDocument


def converted(amount: Decimal, currency: str, target: str, rates: Mapping[str, Decimal]) -> Decimal | None:
    """`amount` in `currency` as `target` units (to its minor units), or None when no rate is known."""
    if currency == target:
        return amount
    rate = rates.get(currency)
    return None if rate is None else quantize(amount * rate, target)


@dataclass(frozen=True, slots=True)
class SmallOrder:
    """The small-order rule for one order: under the threshold no report is bought."""

    threshold: Decimal | None  # `small_orders.threshold` in the order's currency; None: no rate converts it
    below: bool  # False when the threshold is unknown: without a rate an order is never small


def small_order(amount: Decimal, currency: str, policy: PolicyDocument, rates: Mapping[str, Decimal]) -> SmallOrder:
    threshold = converted(policy.small_orders.threshold, policy.currency, currency, rates)
    return SmallOrder(threshold, threshold is not None and amount < threshold)


@dataclass(frozen=True, slots=True)
class OverdueCheck:
    """The policy's stop rule for overdue invoices, applied to a customer's overdue amount and days."""

    beyond: bool  # beyond the tolerance: no delivery on credit
    tolerance_amount: Decimal | None  # `stop.overdue_amount_tolerance` in the amount's currency; None: no rate


def overdue_check(
    overdue_amount: Decimal,
    oldest_overdue_days: int,
    currency: str,
    policy: PolicyDocument,
    rates: Mapping[str, Decimal],
) -> OverdueCheck:
    """`overdue_amount` is in `currency` (the order's, or the customer's limit currency for the monitor).

    Nothing overdue is never beyond; otherwise too many days, too large an amount, or an amount tolerance
    that no known rate converts (nothing then proves the amount tolerable) is."""
    stop = policy.stop
    tolerance = converted(stop.overdue_amount_tolerance, policy.currency, currency, rates)
    if overdue_amount <= 0:
        return OverdueCheck(False, tolerance)
    within_amount = tolerance is not None and overdue_amount <= tolerance
    return OverdueCheck(oldest_overdue_days > stop.overdue_days_tolerance or not within_amount, tolerance)


@dataclass(frozen=True, slots=True)
class ArrangedOverdue:
    """The overdue stop with the customer's payment arrangements: kept ones take their invoices out of it."""

    check: OverdueCheck  # the stop as it applies
    overdue_amount: Decimal  # the figures it applied to
    oldest_overdue_days: int
    relieved: bool  # the whole overdue is beyond the tolerance, what no kept arrangement covers is not


def arranged_overdue_check(
    overdue_amount: Decimal,
    oldest_overdue_days: int,
    arrangements: ArrangementFacts | None,
    currency: str,
    policy: PolicyDocument,
    rates: Mapping[str, Decimal],
) -> ArrangedOverdue:
    """`overdue_check` on the overdue outside kept arrangements, under a policy with an `arrangements` section.

    Without the section, or without a kept arrangement, the whole overdue counts as before."""
    full = overdue_check(overdue_amount, oldest_overdue_days, currency, policy, rates)
    if policy.arrangements is None or arrangements is None or not arrangements.kept:
        return ArrangedOverdue(full, overdue_amount, oldest_overdue_days, False)
    outside_amount, outside_days = arrangements.overdue_outside, arrangements.oldest_overdue_days_outside
    outside = overdue_check(outside_amount, outside_days, currency, policy, rates)
    return ArrangedOverdue(outside, outside_amount, outside_days, full.beyond and not outside.beyond)


@dataclass(frozen=True, slots=True)
class InsuredSplit:
    """Exposure split into the share a credit insurer's cover protects and the seller's own risk."""

    insured: Decimal
    uninsured: Decimal


def insured_split(
    total: Decimal, vat: Decimal, cover_amount: Decimal | None, coverage: Decimal, excludes_vat: bool, currency: str
) -> InsuredSplit:
    """insured = min(cover, exposure (net of its VAT when the cover excludes VAT)) × coverage, rounded down to
    `currency`'s minor units; uninsured = total − insured. All amounts in `currency`; no cover: all uninsured.

    So the insured share never exceeds the cover nor the exposure, and the two always add up to the total."""
    unit = Decimal(1).scaleb(-minor_units(currency))
    if cover_amount is None or total <= 0:
        return InsuredSplit(Decimal(0).quantize(unit), total)
    eligible = max(Decimal(0), total - max(Decimal(0), vat)) if excludes_vat else total
    covered = min(max(Decimal(0), cover_amount), eligible) * min(max(Decimal(0), coverage), Decimal(1))
    insured = covered.quantize(unit, rounding=ROUND_DOWN)
    return InsuredSplit(insured, total - insured)


def extension_stop(oldest_overdue_days: int, policy: PolicyDocument) -> bool:
    """The insurance policy's maximum extension period: from the oldest overdue invoice's due date plus
    `insurance.max_extension_days` on (its stop date), no delivery on credit. Nothing overdue never stops."""
    insurance = policy.insurance
    if insurance is None or insurance.max_extension_days is None or oldest_overdue_days <= 0:
        return False
    return oldest_overdue_days >= insurance.max_extension_days


def stop_date(oldest_due: date | None, policy: PolicyDocument) -> date | None:
    """The day deliveries on credit stop under the maximum extension period, while anything is overdue."""
    insurance = policy.insurance
    if insurance is None or insurance.max_extension_days is None or oldest_due is None:
        return None
    return oldest_due + timedelta(days=insurance.max_extension_days)
