"""Exposure from stored rows: sums per currency, then one figure in the currency a reader needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.customers.rates import RateTable, convert_sums


@dataclass(slots=True)
class ExposureSums:
    """Minor units per currency, as the database summed them."""

    receivables: dict[str, int] = field(default_factory=dict)
    reserved: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    vat: dict[str, int] = field(default_factory=dict)  # the VAT within receivables and reserved
    oldest_due: date | None = None

    def add(self, kind: str, currency: str, amount: int, oldest_due: date | None) -> None:
        target = {"receivable": self.receivables, "reserved": self.reserved, "overdue": self.overdue, "vat": self.vat}[
            kind
        ]
        target[currency] = target.get(currency, 0) + int(amount)
        if oldest_due is not None and (self.oldest_due is None or oldest_due < self.oldest_due):
            self.oldest_due = oldest_due


def sums_by_customer(rows: Iterable[Any]) -> dict[str, ExposureSums]:
    """Rows of (customer_id, kind, currency, amount_minor, oldest_due) → sums per customer."""
    sums: dict[str, ExposureSums] = {}
    for customer_id, kind, currency, amount, oldest_due in rows:
        sums.setdefault(customer_id, ExposureSums()).add(kind, currency, amount or 0, oldest_due)
    return sums


def combined(parts: Iterable[ExposureSums]) -> ExposureSums:
    total = ExposureSums()
    for part in parts:
        for kind, amounts in (
            ("receivable", part.receivables),
            ("reserved", part.reserved),
            ("overdue", part.overdue),
            ("vat", part.vat),
        ):
            for currency, amount in amounts.items():
                total.add(kind, currency, amount, None)
        if part.oldest_due is not None and (total.oldest_due is None or part.oldest_due < total.oldest_due):
            total.oldest_due = part.oldest_due
    return total


@dataclass(frozen=True, slots=True)
class Exposure:
    """Exposure in one currency."""

    currency: str
    open_receivables: Decimal
    reserved: Decimal
    overdue_amount: Decimal
    oldest_overdue_days: int
    unpriced_currencies: tuple[str, ...]
    rates_used: Mapping[str, Decimal]
    vat: Decimal = Decimal(0)  # the VAT within the total

    @property
    def total(self) -> Decimal:
        return self.open_receivables + self.reserved


def in_currency(sums: ExposureSums, currency: str, rates: RateTable, today: date) -> Exposure:
    receivables = convert_sums(sums.receivables, currency, rates)
    reserved = convert_sums(sums.reserved, currency, rates)
    overdue = convert_sums(sums.overdue, currency, rates)
    vat = convert_sums(sums.vat, currency, rates)
    oldest_days = (today - sums.oldest_due).days if sums.oldest_due is not None else 0
    unpriced = receivables.unpriced | reserved.unpriced | overdue.unpriced
    return Exposure(
        currency=currency,
        open_receivables=receivables.amount,
        reserved=reserved.amount,
        overdue_amount=overdue.amount,
        oldest_overdue_days=oldest_days,
        unpriced_currencies=tuple(sorted(unpriced)),
        rates_used={**receivables.used, **reserved.used, **overdue.used},
        vat=vat.amount,
    )
