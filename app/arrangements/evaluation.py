"""Arrangements read from their rows and judged as of a day; what a decision reads of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.arrangements.models import PaymentArrangement
from app.customers.rates import RateTable
from app.money import from_minor, quantize
from app.policy.arrangements import (
    ArrangedPayment,
    ArrangementFact,
    ArrangementFacts,
    ArrangementState,
    Instalment,
    arrangement_state,
)


@dataclass(frozen=True, slots=True)
class CoveredInvoice:
    invoice_id: str
    currency: str
    open_minor_agreed: int
    open_minor: int
    due_date: date


@dataclass(slots=True)
class ArrangementLines:
    """One arrangement's instalments, invoices and the payments on them, as read."""

    instalments: list[Instalment] = field(default_factory=list)
    invoices: dict[str, CoveredInvoice] = field(default_factory=dict)
    payments: dict[str, ArrangedPayment] = field(default_factory=dict)  # by payment id


@dataclass(frozen=True, slots=True)
class Judged:
    row: PaymentArrangement
    lines: ArrangementLines
    judgement: ArrangementState


def lines_from_rows(instalments: Iterable[Any], invoices: Iterable[Any]) -> dict[str, ArrangementLines]:
    lines: dict[str, ArrangementLines] = {}
    for row in instalments:
        lines.setdefault(row.arrangement_id, ArrangementLines()).instalments.append(
            Instalment(row.due_date, row.amount_minor)
        )
    for row in invoices:
        one = lines.setdefault(row.arrangement_id, ArrangementLines())
        one.invoices.setdefault(
            row.invoice_id,
            CoveredInvoice(row.invoice_id, row.currency, row.open_minor_agreed, row.open_amount_minor, row.due_date),
        )
        if row.payment_id is not None:
            one.payments[row.payment_id] = ArrangedPayment(row.payment_minor, row.paid_on)
    return lines


def judge(
    rows: Sequence[PaymentArrangement], lines: dict[str, ArrangementLines], *, as_of: date, grace_days: int
) -> list[Judged]:
    judged = []
    for row in rows:
        one = lines.get(row.id, ArrangementLines())
        judgement = arrangement_state(
            one.instalments, one.payments.values(), agreed_on=row.agreed_on, as_of=as_of, grace_days=grace_days
        )
        judged.append(Judged(row, one, judgement))
    return judged


def arrangement_facts(
    judged: Iterable[Judged], overdue: Iterable[Any], *, currency: str, rates: RateTable, today: date
) -> tuple[ArrangementFacts | None, dict[str, Decimal]]:
    """A customer's kept and broken arrangements and its overdue outside the kept ones, in `currency`.

    None when it has none; an amount in a currency no rate converts counts as overdue outside (so nothing
    unpriced is relieved). Returns the rates it used too, stored with the decision."""
    used: dict[str, Decimal] = {}

    def amount(minor: int, of: str) -> Decimal | None:
        if of == currency:
            return from_minor(minor, of)
        rate = rates.rate(currency, of)
        if rate is None:
            return None
        used[of] = rate
        return from_minor(minor, of) * rate

    facts: list[ArrangementFact] = []
    kept_invoices: set[str] = set()
    for one in judged:
        if one.judgement.status not in ("kept", "broken"):
            continue
        open_amount, overdue_amount = Decimal(0), Decimal(0)
        for invoice in one.lines.invoices.values():
            value = amount(invoice.open_minor, invoice.currency) if invoice.open_minor > 0 else Decimal(0)
            if value is None:
                continue
            open_amount += value
            if invoice.due_date < today:
                overdue_amount += value
        if one.judgement.status == "kept":
            kept_invoices.update(one.lines.invoices)
        facts.append(
            ArrangementFact(
                one.row.id,
                one.judgement.status,
                tuple(sorted(one.lines.invoices)),
                quantize(open_amount, currency),
                quantize(overdue_amount, currency),
                one.judgement.broken_on,
            )
        )
    if not facts:
        return None, used
    outside, oldest = Decimal(0), 0
    unpriced = False
    for row in overdue:
        if row.invoice_id in kept_invoices:
            continue
        value = amount(row.open_amount_minor, row.currency)
        if value is None:
            unpriced = True
            continue
        outside += value
        oldest = max(oldest, (today - row.due_date).days)
    if unpriced:
        # Nothing proves an unpriced overdue amount tolerable: no arrangement relieves the stop then.
        facts = [f for f in facts if f.status != "kept"]
        if not facts:
            return None, used
    return ArrangementFacts(tuple(facts), quantize(outside, currency), oldest), used
