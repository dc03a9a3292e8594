"""The lost-sales report: orders the limit kept off credit (not a block, an insolvency or overdue invoices), what
later payments say about them, and a what-if through the replay engine with another limit for these customers."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from app.db import Database, utcnow
from app.decisions.models import Decision
from app.errors import FieldError, InvalidRequest
from app.fields import parse_amount
from app.limits import repository
from app.money import format_minor, quantize
from app.policy.facts import DecisionInputs
from app.policy_versions.replay import replay_decision
from app.policy_versions.service import PolicyService
from app.schemas import Money

LIMIT_CODES = frozenset({"EXCEEDS_AVAILABLE_CREDIT", "GROUP_LIMIT"})
# Orders held back for these are not the limit's doing.
OTHER_CAUSES = frozenset(
    {"CUSTOMER_BLOCKED", "INSOLVENT", "OVERDUE_INVOICES", "HIGH_RISK_PREPAYMENT", "PAYMENT_BEHAVIOUR_DETERIORATED"}
)


class LostOrder(BaseModel):
    decision_id: str
    order_id: str
    customer_id: str
    decided_at: datetime
    month: str
    outcome: str
    currency: str
    amount: Money
    credit_limit: Money
    exposure: Money
    held_back: Money = Field(description="The part not on credit: the prepayment asked for.")
    fate: str = Field(description="invoiced: the order went ahead (its prepayment paid); lost: no invoice since.")
    late_payments_since: int = Field(description="The customer's invoices paid late since the order.")
    what_if_on_credit: bool | None = Field(description="With the what-if limit the whole order would be on credit.")
    overdue_now: Money = Field(description="Of this order's invoices, what is overdue today.")


class MonthTotal(BaseModel):
    month: str
    currency: str
    orders: int
    amount: Money
    held_back: Money
    lost: int
    customers: list[str]


class CustomerTotal(BaseModel):
    customer_id: str
    currency: str
    orders: int
    held_back: Money
    lost: int
    late_payments_since: int


class WhatIf(BaseModel):
    limit: Money
    currency: str
    orders: int = Field(description="N: orders that would have been on credit in full with this limit.")
    amount: Money = Field(description="Y: what they were worth.")
    overdue_now: Money = Field(description="Z: of their invoices, what is overdue today.")


class LostSalesReport(BaseModel):
    date_from: date
    date_to: date
    months: list[MonthTotal]
    customers: list[CustomerTotal]
    orders: list[LostOrder]
    what_if: WhatIf | None


class LostSalesService:
    def __init__(self, database: Database, policies: PolicyService) -> None:
        self.database = database
        self.policies = policies

    async def report(
        self, date_from: date, date_to: date, what_if_limit: str | None, currency: str | None
    ) -> LostSalesReport:
        if date_to < date_from:
            raise _invalid("query.date_to", "must not be before date_from")
        if date_to - date_from > timedelta(days=731):
            raise _invalid("query.date_to", "at most two years after date_from")
        limit = None
        if what_if_limit is not None:
            try:
                limit = parse_amount(what_if_limit, currency, allow_zero=True)
            except ValueError as exc:
                raise _invalid("query.what_if_limit", str(exc)) from None
        start = datetime.combine(date_from, time(), UTC)
        end = datetime.combine(date_to + timedelta(days=1), time(), UTC)
        today = utcnow().date()
        async with self.database.read() as session:
            rows = await repository.limit_held_decisions(session, start, end)
            latest = await repository.latest_decision_ids(session, sorted({row.order_id for row in rows}))
            held = [row for row in rows if row.id in latest and _by_the_limit(row)]
            invoices = await repository.invoices_of_orders(session, sorted({row.order_id for row in held}))
            late_by_day: dict[tuple[str, date], int] = {}
            for row in held:
                key = (row.customer_id, row.decided_at.date())
                if key not in late_by_day:
                    found = await repository.late_payers_since(session, [key[0]], key[1])
                    late_by_day[key] = found.get(key[0], 0)
        late = {row.id: late_by_day[(row.customer_id, row.decided_at.date())] for row in held}
        by_order: dict[tuple[str, str | None], list[Any]] = defaultdict(list)
        for invoice in invoices:
            by_order[(invoice.customer_id, invoice.order_id)].append(invoice)
        orders = []
        # The what-if replays the orders of one currency: `currency`, else the first held-back order's.
        replayed = currency or (held[0].currency if held else None)
        for row in held:
            mine = by_order.get((row.customer_id, row.order_id), [])
            overdue = sum((i.open_amount_minor for i in mine if i.currency == row.currency and i.due_date < today), 0)
            on_credit = None
            if limit is not None and row.currency == replayed:
                on_credit = await self._on_credit_with(row, limit)
            orders.append(_lost_order(row, "invoiced" if mine else "lost", late[row.id], on_credit, overdue))
        what_if = _what_if(orders, limit, replayed) if limit is not None else None
        return LostSalesReport(
            date_from=date_from,
            date_to=date_to,
            months=_months(orders),
            customers=_customers(orders),
            orders=orders,
            what_if=what_if,
        )

    async def _on_credit_with(self, row: Decision, limit: Decimal) -> bool:
        """The stored decision replayed with `limit` as the customer's manual limit (in the order's currency)."""
        inputs = DecisionInputs.from_json(row.inputs)
        customer = dataclasses.replace(
            inputs.customer, manual_limit=limit, limit_currency=row.currency, manual_limit_expired_at=None
        )
        changed = DecisionInputs(customer, inputs.report, inputs.exposure, inputs.rates, inputs.behaviour)
        evaluation = replay_decision(
            _Stored(row.request, changed.to_json()), await self.policies.document(row.policy_version)
        )
        return evaluation.outcome.value == "accept"


@dataclasses.dataclass(frozen=True, slots=True)
class _Stored:
    """What the replay reads of a stored decision: its request and its inputs."""

    request: dict[str, Any]
    inputs: dict[str, Any]


def _by_the_limit(row: Decision) -> bool:
    codes = {reason["code"] for reason in row.reasons}
    return row.outcome in ("prepayment", "reject") and bool(codes & LIMIT_CODES) and not codes & OTHER_CAUSES


def _lost_order(row: Decision, fate: str, late: int, on_credit: bool | None, overdue_minor: int) -> LostOrder:
    def money(minor: int) -> str:
        return format_minor(minor, row.currency)

    return LostOrder(
        decision_id=row.id,
        order_id=row.order_id,
        customer_id=row.customer_id,
        decided_at=row.decided_at,
        month=row.decided_at.strftime("%Y-%m"),
        outcome=row.outcome,
        currency=row.currency,
        amount=money(row.amount_minor),
        credit_limit=money(row.credit_limit_minor),
        exposure=money(row.exposure_minor),
        held_back=money(row.amount_minor - row.approved_credit_minor),
        fate=fate,
        late_payments_since=late,
        what_if_on_credit=on_credit,
        overdue_now=money(overdue_minor),
    )


def _sum(values: list[str], currency: str) -> str:
    return str(quantize(sum((Decimal(value) for value in values), Decimal(0)), currency))


def _months(orders: list[LostOrder]) -> list[MonthTotal]:
    groups: dict[tuple[str, str], list[LostOrder]] = defaultdict(list)
    for order in orders:
        groups[(order.month, order.currency)].append(order)
    return [
        MonthTotal(
            month=month,
            currency=currency,
            orders=len(group),
            amount=_sum([o.amount for o in group], currency),
            held_back=_sum([o.held_back for o in group], currency),
            lost=sum(1 for o in group if o.fate == "lost"),
            customers=sorted({o.customer_id for o in group}),
        )
        for (month, currency), group in sorted(groups.items())
    ]


def _customers(orders: list[LostOrder]) -> list[CustomerTotal]:
    groups: dict[tuple[str, str], list[LostOrder]] = defaultdict(list)
    for order in orders:
        groups[(order.customer_id, order.currency)].append(order)
    totals = [
        CustomerTotal(
            customer_id=customer_id,
            currency=currency,
            orders=len(group),
            held_back=_sum([o.held_back for o in group], currency),
            lost=sum(1 for o in group if o.fate == "lost"),
            late_payments_since=max(o.late_payments_since for o in group),
        )
        for (customer_id, currency), group in groups.items()
    ]
    return sorted(totals, key=lambda total: (-Decimal(total.held_back), total.customer_id))


def _what_if(orders: list[LostOrder], limit: Decimal, currency: str | None) -> WhatIf:
    chosen = [o for o in orders if o.what_if_on_credit]
    code = currency or (orders[0].currency if orders else "EUR")
    return WhatIf(
        limit=str(quantize(limit, code)),
        currency=code,
        orders=len(chosen),
        amount=_sum([o.amount for o in chosen], code),
        overdue_now=_sum([o.overdue_now for o in chosen], code),
    )


def to_csv(report: LostSalesReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = list(LostOrder.model_fields)
    writer.writerow(names)
    for order in report.orders:
        values = order.model_dump(mode="json")
        writer.writerow(["" if values[name] is None else values[name] for name in names])
    return out.getvalue()


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{field}: {message}", errors=[FieldError(field=field, message=message)])
