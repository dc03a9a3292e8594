"""The customers' payment-behaviour figures from the rows of `repository.behaviour_rows`, alone and per group."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.customers import repository
from app.customers.models import Customer, CustomerRecord
from app.customers.rates import RateTable
from app.policy.behaviour import (
    BehaviourFigures,
    GroupFigures,
    InvoiceLine,
    PaymentLine,
    TermsRequest,
    compute_figures,
)

Lines = tuple[list[InvoiceLine], list[PaymentLine]]


@dataclass(frozen=True, slots=True)
class BehaviourGroup:
    """Customers sharing a parent: the parent's id names the group; members in id order, the parent included."""

    group_id: str
    members: tuple[str, ...]


def lines_by_customer(rows: Iterable[Any]) -> dict[str, Lines]:
    lines: dict[str, tuple[dict[str, InvoiceLine], list[PaymentLine]]] = {}
    for row in rows:
        customer_id, invoice_id = row.customer_id, row.invoice_id
        invoices, payments = lines.setdefault(customer_id, ({}, []))
        if invoice_id not in invoices:  # an invoice comes once per payment of it
            invoices[invoice_id] = InvoiceLine(
                invoice_id,
                row.currency,
                row.amount_minor,
                row.open_amount_minor,
                row.issue_date,
                row.due_date,
                customer_id,
            )
        if row.payment_id is not None:
            payments.append(
                PaymentLine(
                    row.payment_id, invoice_id, row.payment_currency, row.payment_minor, row.paid_on, customer_id
                )
            )
    return {customer: (list(invoices.values()), payments) for customer, (invoices, payments) in lines.items()}


def customer_figures(
    lines: Mapping[str, Lines],
    customer_id: str,
    *,
    as_of: date,
    currency: str,
    rates: RateTable,
    requests: Mapping[str, Sequence[TermsRequest]],
    group: BehaviourGroup | None,
) -> BehaviourFigures:
    """A customer's figures in `currency` (without lines: figures from no data) and, in a group, the same
    figures over every member's invoices, payments and requests for longer terms."""

    def figures(members: Sequence[str]) -> BehaviourFigures:
        invoices = [line for member in members for line in lines.get(member, ([], []))[0]]
        payments = [line for member in members for line in lines.get(member, ([], []))[1]]
        currencies = {line.currency for line in invoices} | {line.currency for line in payments}
        rate_map = {code: rate for code in currencies if (rate := rates.rate(currency, code)) is not None}
        asked = [request for member in members for request in requests.get(member, ())]
        return compute_figures(invoices, payments, as_of=as_of, currency=currency, rates=rate_map, terms_requests=asked)

    own = figures([customer_id])
    if group is None:
        return own
    return replace(own, group=GroupFigures(group.group_id, group.members, figures(group.members)))


def figures_from_rows(
    rows: Iterable[Any],
    customer_ids: Iterable[str],
    *,
    as_of: date,
    currency: str,
    rates: RateTable,
    requests: Mapping[str, Sequence[TermsRequest]] | None = None,
    groups: Mapping[str, BehaviourGroup] | None = None,
) -> dict[str, BehaviourFigures]:
    """`customer_figures` of each of `customer_ids`, from the rows of `repository.behaviour_rows`."""
    lines = lines_by_customer(rows)
    return {
        customer_id: customer_figures(
            lines,
            customer_id,
            as_of=as_of,
            currency=currency,
            rates=rates,
            requests=requests or {},
            group=(groups or {}).get(customer_id),
        )
        for customer_id in customer_ids
    }


def behaviour_root(customer: CustomerRecord) -> str:
    """The id naming the customer's behaviour group: its parent's, or its own when it has none."""
    return customer.parent_id or customer.id


def group_of(customer: CustomerRecord, members: Mapping[str, Sequence[str]]) -> BehaviourGroup | None:
    """The customer's group from `repository.group_members` of its root; None when no other stored customer
    shares its parent (or has it as parent)."""
    root = behaviour_root(customer)
    found = members.get(root, ())
    return BehaviourGroup(root, tuple(found)) if len({*found, customer.id}) > 1 else None


async def behaviour_groups(session: AsyncSession, customers: Sequence[Customer]) -> dict[str, BehaviourGroup]:
    """The group of each of `customers` that is in one (`group_of`), in one statement."""
    members = await repository.group_members(session, sorted({behaviour_root(customer) for customer in customers}))
    return {customer.id: group for customer in customers if (group := group_of(customer, members)) is not None}
