"""A customer's credit standing now: the limit, exposure and available credit the next decision would be
given, computed by the decision path's own builders and evaluator (asked for the smallest order there is).

The credit file reads this, so the file and a decision taken at the same moment tell one truth: a block, an
insolvency, a manual limit, a group's cap and the overdue stop all come from the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.customers import repository as customers
from app.customers.exposure import Exposure, ExposureSums, combined, in_currency, sums_by_customer
from app.customers.models import Customer
from app.customers.rates import RateTable
from app.decisions import repository
from app.decisions.inputs import customer_facts, exposure_facts, rates_used
from app.money import minor_units
from app.policy.evaluator import evaluate
from app.policy.facts import Evaluation, OrderFacts, ReportFacts
from app.policy.schema import PolicyDocument

STANDING_ORDER_ID = "credit-standing"


@dataclass(frozen=True, slots=True)
class Standing:
    evaluation: Evaluation
    own: Exposure  # the customer's exposure in `currency`
    root: Customer | None  # the group's root, if the customer is in a group
    group: Exposure | None  # the whole group's exposure in `currency`
    rates: dict[str, Decimal]  # the rates used, units of `currency` per one unit of each


async def credit_standing(
    session: AsyncSession,
    customer: Customer,
    report: ReportFacts,
    currency: str,
    policy: PolicyDocument,
    rates: RateTable,
    now: datetime,
) -> Standing:
    """What a decision for an order of one minor unit of `currency` would be given, read as a decision reads.

    One minor unit, not zero: the overdue stop leaves a decision no available credit only when it asks for
    some, so that the figure here is the one a real order gets. `report` is the report a decision would use
    now (a fresh cached one, else none: the file buys no report).
    """
    today = now.date()
    root = await customers.group_root_of(session, customer)
    members = await customers.group_member_ids(session, root.id) if root is not None else []
    rows = await customers.exposure_rows(session, sorted({customer.id, *members}), today=today, now=now)
    sums = sums_by_customer(rows)
    own = in_currency(sums.get(customer.id, ExposureSums()), currency, rates, today)
    group = (
        in_currency(combined(sums.get(member, ExposureSums()) for member in members), currency, rates, today)
        if root is not None
        else None
    )
    earlier_credit = await repository.with_credit_history(session, [customer.id], [])
    facts = customer_facts(customer, root, first_order=customer.id not in earlier_credit, now=now)
    used = rates_used(
        currency,
        rates,
        (own, group),
        (policy.currency, report.limit_currency, customer.limit_currency, root.limit_currency if root else None),
    )
    order = OrderFacts(STANDING_ORDER_ID, Decimal(1).scaleb(-minor_units(currency)), currency)
    evaluation = evaluate(order, facts, report, exposure_facts(own, group), policy, used)
    return Standing(evaluation, own, root, group, used)
