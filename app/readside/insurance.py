"""Insured and uninsured exposure as the read side shows them: one customer's, and the whole portfolio's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from app.customers.exposure import Exposure, ExposureSums, in_currency
from app.customers.rates import RateTable
from app.insurance.covers import cover_out, coverage, is_in_force
from app.insurance.models import Cover
from app.insurance.schemas import CoverOut
from app.money import from_minor
from app.policy.rules import InsuredSplit, converted, extension_stop, insured_split, stop_date
from app.policy.schema import PolicyDocument
from app.schemas import Money


class InsuranceOut(BaseModel):
    cover: CoverOut | None = Field(description="The customer's cover as recorded (in force or not); null: none.")
    insured_exposure: Money | None = Field(
        description="The part of the exposure the cover in force protects: min(cover, exposure, net of VAT when "
        "the cover excludes it) × coverage; null when a rate is missing."
    )
    uninsured_exposure: Money | None = Field(description="The seller's own risk: exposure − insured exposure.")
    vat: Money = Field(description="The VAT within the exposure, from invoices and orders that state it.")
    stop_date: date | None = Field(
        description="Under the policy's `insurance.max_extension_days`, while anything is overdue: the day "
        "deliveries on credit stop (the oldest overdue invoice's due date plus the maximum extension period)."
    )
    credit_stopped: bool = Field(description="The stop date has come: decisions give no credit.")


def split_of(exposure: Exposure, cover: Cover | None, rates: RateTable, today: date) -> InsuredSplit | None:
    """The exposure's split under the cover in force (all uninsured without one); None when a rate is missing."""
    if exposure.unpriced_currencies:
        return None
    if cover is None or not is_in_force(cover, today):
        return insured_split(exposure.total, exposure.vat, None, Decimal(0), False, exposure.currency)
    rate = rates.rate(exposure.currency, cover.currency)
    if rate is None:
        return None
    amount = converted(
        from_minor(cover.amount_minor, cover.currency), cover.currency, exposure.currency, {cover.currency: rate}
    )
    return insured_split(exposure.total, exposure.vat, amount, coverage(cover), cover.excludes_vat, exposure.currency)


def insurance_out(
    exposure: Exposure, cover: Cover | None, rates: RateTable, today: date, policy: PolicyDocument
) -> InsuranceOut:
    split = split_of(exposure, cover, rates, today)
    days = exposure.oldest_overdue_days
    oldest_due = today - timedelta(days=days) if days > 0 else None
    return InsuranceOut(
        stop_date=stop_date(oldest_due, policy),
        credit_stopped=extension_stop(days, policy),
        cover=cover_out(cover, today) if cover is not None else None,
        insured_exposure=None if split is None else str(split.insured),
        uninsured_exposure=None if split is None else str(split.uninsured),
        vat=str(exposure.vat),
    )


def portfolio_insured(
    sums: Mapping[str, ExposureSums], covers: Mapping[str, Cover], currency: str, rates: RateTable, today: date
) -> Decimal:
    """The insured exposure of every covered customer, in `currency` (a customer a rate cannot price: none)."""
    insured = Decimal(0)
    for customer_id, cover in covers.items():
        if customer_id not in sums:
            continue
        split = split_of(in_currency(sums[customer_id], currency, rates, today), cover, rates, today)
        if split is not None:
            insured += split.insured
    return insured
