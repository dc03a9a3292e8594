"""A customer's credit standing now: the limit, exposure and available credit the next decision would be
given, computed by the decision path's own builders and evaluator (asked for the smallest order there is).

The credit file and the customer list read this, so they and a decision taken at the same moment tell one
truth: a block, an insolvency, a manual limit, a group's cap and the overdue stop all come from the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.arrangements.service import arrangement_inputs
from app.chunks import chunks
from app.customers import repository as customers
from app.customers.exposure import Exposure, ExposureSums, combined, in_currency, sums_by_customer
from app.customers.groups import group_root
from app.customers.models import Customer
from app.customers.rates import RateTable
from app.decisions import repository
from app.decisions.behaviour import figures_of
from app.decisions.inputs import (
    cover_facts,
    customer_facts,
    exposure_facts,
    needs_trading,
    rates_used,
    trading_facts,
)
from app.insurance import repository as insurance
from app.insurance.models import Cover
from app.money import minor_units
from app.policy.behaviour import LONG_WINDOW_DAYS, BehaviourFigures
from app.policy.evaluator import evaluate
from app.policy.facts import Evaluation, OrderFacts, ReportFacts
from app.policy.schema import PolicyDocument

STANDING_ORDER_ID = "credit-standing"
# Above this many customers the exposure of the whole portfolio is read in one statement instead.
WHOLE_PORTFOLIO_FROM = 2000


@dataclass(frozen=True, slots=True)
class Standing:
    evaluation: Evaluation
    currency: str  # the customer's limit currency, the policy's when none is set
    own: Exposure  # the customer's exposure in `currency`
    root: Customer | None  # the group's root, if the customer is in a group with a limit
    group: Exposure | None  # the whole group's exposure in `currency`
    rates: dict[str, Decimal]  # the rates used, units of `currency` per one unit of each
    cover: Cover | None = None  # the customer's cover as recorded (in force or not)

    @property
    def priced(self) -> bool:
        return not any(reason.code == "FX_RATE_UNAVAILABLE" for reason in self.evaluation.reasons)


async def credit_standing(
    session: AsyncSession,
    customer: Customer,
    report: ReportFacts,
    policy: PolicyDocument,
    rates: RateTable,
    now: datetime,
) -> Standing:
    """What a decision for an order of one minor unit of the customer's limit currency would be given.

    One minor unit, not zero: the overdue stop leaves a decision no available credit only when it asks for
    some, so that the figure here is the one a real order gets. `report` is the report a decision would use
    now (a fresh cached one, else none: no report is bought for this).
    """
    return (await credit_standings(session, [customer], {customer.id: report}, policy, rates, now))[customer.id]


async def credit_standings(
    session: AsyncSession,
    listed: Sequence[Customer],
    reports: Mapping[str, ReportFacts],
    policy: PolicyDocument,
    rates: RateTable,
    now: datetime,
) -> dict[str, Standing]:
    """`credit_standing` for many customers in a few statements; `reports` by customer id (none if absent)."""
    if not listed:
        return {}
    today = now.date()
    known = {row.id: row for row in listed}
    missing = sorted({row.parent_id for row in listed if row.parent_id and row.parent_id not in known})
    parents = {**known, **(await customers.customers_by_id(session, missing))}
    roots = {row.id: group_root(row, parents.get(row.parent_id) if row.parent_id else None) for row in listed}
    groups = await customers.group_members(session, sorted({root.id for root in roots.values() if root}))
    counted = sorted({*known, *(member for members in groups.values() for member in members)})
    whole = len(counted) >= WHOLE_PORTFOLIO_FROM
    rows = await customers.exposure_rows(session, None if whole else counted, today=today, now=now)
    sums = sums_by_customer(rows)
    earlier_credit: set[str] = set()
    for piece in chunks(sorted(known)):
        earlier_credit |= await repository.with_credit_history(session, piece, [])
    # Under a policy that scores payment behaviour, a decision weighs it: so does the standing.
    behaviour: dict[str, BehaviourFigures] = {}
    if policy.behaviour is not None:
        for listed_piece in chunks([known[customer_id] for customer_id in sorted(known)]):
            behaviour |= await figures_of(session, listed_piece, as_of=today, currency=policy.currency, rates=rates)
    # So do its kept and broken payment arrangements, under a policy that weighs them.
    arrangements = await arrangement_inputs(session, sorted(known), today=today, policy=policy)
    covers = await insurance.covers_of(session, sorted(known))
    history = (
        await customers.trading_history(session, sorted(known), today - timedelta(days=LONG_WINDOW_DAYS))
        if needs_trading(policy)
        else {}
    )
    found: dict[str, Standing] = {}
    for customer in listed:
        root = roots[customer.id]
        currency = customer.limit_currency or policy.currency
        report = reports.get(customer.id) or ReportFacts(source="none")
        own = in_currency(sums.get(customer.id, ExposureSums()), currency, rates, today)
        group = (
            in_currency(
                combined(sums.get(member, ExposureSums()) for member in groups[root.id]), currency, rates, today
            )
            if root is not None
            else None
        )
        facts = customer_facts(customer, root, first_order=customer.id not in earlier_credit, now=now)
        cover = cover_facts(covers.get(customer.id), today)
        used = rates_used(
            currency,
            rates,
            (own, group),
            (
                policy.currency,
                report.limit_currency,
                customer.limit_currency,
                root.limit_currency if root else None,
                cover.currency if cover is not None else None,
            ),
        )
        arranged, arrangement_rates = arrangements.facts(customer.id, currency=currency, rates=rates, today=today)
        used = {**arrangement_rates, **used}
        order = OrderFacts(STANDING_ORDER_ID, Decimal(1).scaleb(-minor_units(currency)), currency)
        evaluation = evaluate(
            order,
            facts,
            report,
            exposure_facts(own, group),
            policy,
            used,
            behaviour.get(customer.id),
            arrangements=arranged,
            cover=cover,
            trading=trading_facts(history[customer.id], today) if customer.id in history else None,
        )
        found[customer.id] = Standing(evaluation, currency, own, root, group, used, covers.get(customer.id))
    return found
