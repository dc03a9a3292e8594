"""The customers' payment-behaviour figures from the rows of `repository.behaviour_rows`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.customers import repository
from app.customers.rates import RateTable
from app.policy.behaviour import LONG_WINDOW_DAYS, BehaviourFigures, InvoiceLine, PaymentLine, compute_figures


def lines_by_customer(rows: Iterable[Any]) -> dict[str, tuple[list[InvoiceLine], list[PaymentLine]]]:
    lines: dict[str, tuple[dict[str, InvoiceLine], list[PaymentLine]]] = {}
    for row in rows:
        invoices, payments = lines.setdefault(row.customer_id, ({}, []))
        invoices.setdefault(
            row.invoice_id,
            InvoiceLine(
                row.invoice_id, row.currency, row.amount_minor, row.open_amount_minor, row.issue_date, row.due_date
            ),
        )
        if row.payment_id is not None:
            payments.append(
                PaymentLine(row.payment_id, row.invoice_id, row.payment_currency, row.payment_minor, row.paid_on)
            )
    return {customer: (list(invoices.values()), payments) for customer, (invoices, payments) in lines.items()}


def figures_from_rows(
    rows: Iterable[Any], customer_ids: Iterable[str], *, as_of: date, currency: str, rates: RateTable
) -> dict[str, BehaviourFigures]:
    """Each customer's figures in `currency` (a customer without rows gets figures from no data)."""
    lines = lines_by_customer(rows)
    result = {}
    for customer_id in customer_ids:
        invoices, payments = lines.get(customer_id, ([], []))
        currencies = {line.currency for line in invoices} | {line.currency for line in payments}
        rate_map = {code: rate for code in currencies if (rate := rates.rate(currency, code)) is not None}
        result[customer_id] = compute_figures(invoices, payments, as_of=as_of, currency=currency, rates=rate_map)
    return result


async def figures_of(
    session: AsyncSession, customer_ids: Sequence[str], *, as_of: date, currency: str, rates: RateTable
) -> dict[str, BehaviourFigures]:
    """One statement for all of `customer_ids`."""
    rows = await repository.behaviour_rows(session, customer_ids, as_of - timedelta(days=LONG_WINDOW_DAYS))
    return figures_from_rows(rows, customer_ids, as_of=as_of, currency=currency, rates=rates)
