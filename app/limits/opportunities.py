"""The opportunities pass: good payers held back by their limit get a proposed higher limit, as a limit request
a person approves. Each proposal carries the figures its amount came from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from pydantic import BaseModel, Field

from app.active_policy import ActivePolicy
from app.customers import repository as customers
from app.customers.models import Customer
from app.customers.rates import RateTable
from app.db import Database, utcnow
from app.decisions.behaviour import figures_of
from app.decisions.models import Decision
from app.limits import repository
from app.limits.schemas import LimitRequestOut
from app.limits.service import OPPORTUNITIES, LimitRequestService, request_values
from app.money import format_minor, from_minor, minor_units, to_minor
from app.monitoring.models import CustomerCreditState
from app.policy.facts import RISK_ORDER
from app.policy.schema import PolicyDocument


class Skipped(BaseModel):
    customer_id: str
    reason: str = Field(description="Why no proposal: e.g. report_worsened, payment_record, pending_request.")
    figures: dict[str, Any]


class OpportunitiesResult(BaseModel):
    as_of: datetime
    lookback_days: int
    held_back: int = Field(description="Customers with an order over the available credit in the window.")
    proposed: list[LimitRequestOut]
    skipped: list[Skipped]


@dataclass(slots=True)
class _Case:
    customer: Customer
    held: list[Decision]
    decisions: list[Decision] = field(default_factory=list)


class OpportunitiesService:
    def __init__(self, database: Database, active_policy: ActivePolicy, requests: LimitRequestService) -> None:
        self.database = database
        self.active_policy = active_policy
        self.requests = requests

    async def run(self, lookback_days: int | None = None) -> OpportunitiesResult:
        now = utcnow()
        policy = await self.active_policy()
        rules = policy.limits.proposals
        days = lookback_days or rules.lookback_days
        since = now - timedelta(days=days)
        async with self.database.read() as session:
            held = await repository.held_back(session, since)
            by_customer: dict[str, list[Decision]] = defaultdict(list)
            for row in held:
                by_customer[row.customer_id].append(row)
            ids = sorted(by_customer)
            rows = await customers.customers_by_id(session, ids)
            decided = await repository.decisions_since(session, ids, since)
            rates = await customers.rate_table(session)
            pending = await repository.pending_for(session, ids, now)
            late = await repository.overdue_customers(
                session, ids, now.date() - timedelta(days=rules.overdue_grace_days)
            )
            states = await repository.credit_states(session, ids)
            changed = await repository.last_limit_changes(session)
            listed = [rows[customer_id] for customer_id in ids if customer_id in rows]
            figures = await figures_of(session, listed, as_of=now.date(), currency=policy.currency, rates=rates)
        cases = {
            customer_id: _Case(rows[customer_id], by_customer[customer_id])
            for customer_id in ids
            if customer_id in rows
        }
        for row in decided:
            if row.customer_id in cases:
                cases[row.customer_id].decisions.append(row)
        proposed: list[LimitRequestOut] = []
        skipped: list[Skipped] = []
        for customer_id, case in cases.items():
            paid = figures[customer_id].paid_invoices
            dbt = figures[customer_id].value("dbt_12_months")
            record = {"paid_invoices": paid, "dbt_12_months": None if dbt is None else str(dbt)}
            if customer_id in pending:
                skipped.append(Skipped(customer_id=customer_id, reason="pending_request", figures={}))
            elif customer_id in changed and changed[customer_id] > case.held[-1].decided_at:
                # Someone moved the limit after the last order it held back: that answer stands until the next.
                skipped.append(Skipped(customer_id=customer_id, reason="limit_changed_since", figures={}))
            elif customer_id in late:
                skipped.append(Skipped(customer_id=customer_id, reason="overdue_invoices", figures=record))
            elif paid < rules.min_paid_invoices or dbt is None or dbt > rules.max_days_beyond_terms:
                skipped.append(Skipped(customer_id=customer_id, reason="payment_record", figures=record))
            elif (worse := _worsened(case, states.get(customer_id), policy)) is not None:
                skipped.append(Skipped(customer_id=customer_id, reason="report_worsened", figures=worse))
            else:
                values = _proposal(case, policy, rates, record, now, days)
                if values is None:
                    skipped.append(Skipped(customer_id=customer_id, reason="no_increase", figures=record))
                    continue
                async with self.database.transaction() as session:
                    await customers.lock_customers(session, [customer_id])
                    if customer_id in await repository.pending_for(session, [customer_id], now):
                        continue
                    proposed.append(await self.requests.propose(session, values))
        return OpportunitiesResult(
            as_of=now, lookback_days=days, held_back=len(cases), proposed=proposed, skipped=skipped
        )


def _rank(risk_class: str | None) -> int | None:
    return RISK_ORDER.index(risk_class) if risk_class in RISK_ORDER else None


def _worsened(case: _Case, state: CustomerCreditState | None, policy: PolicyDocument) -> dict[str, Any] | None:
    """The report's figures then and now when it got worse since the first held-back order; else None."""
    first = case.held[0].report or {}
    latest_decision = case.decisions[-1].report if case.decisions else None
    now_class, now_score = (latest_decision or {}).get("risk_class"), (latest_decision or {}).get("score")
    if (
        state is not None
        and state.report_fetched_at is not None
        and (not case.decisions or state.checked_at >= case.decisions[-1].decided_at)
    ):
        now_class, now_score = state.risk_class or now_class, state.score if state.score is not None else now_score
    then_class, then_score = first.get("risk_class"), first.get("score")
    then_rank, now_rank = _rank(then_class), _rank(now_class)
    worse_class = then_rank is not None and now_rank is not None and now_rank > then_rank
    drop = policy.monitoring.score_drop_threshold
    worse_score = then_score is not None and now_score is not None and then_score - now_score >= drop
    if worse_class or worse_score or now_class == "insolvent":
        return {
            "risk_class_then": then_class,
            "risk_class_now": now_class,
            "score_then": then_score,
            "score_now": now_score,
        }
    return None


def _in(amount_minor: int, currency: str, target: str, rates: RateTable) -> Decimal | None:
    rate = rates.rate(target, currency)
    return None if rate is None else from_minor(amount_minor, currency) * rate


def _proposal(
    case: _Case, policy: PolicyDocument, rates: RateTable, record: dict[str, Any], now: datetime, days: int
) -> dict[str, Any] | None:
    """The limit request's values, or None when the rule gives no more than the limit the customer has."""
    customer, rules = case.customer, policy.limits.proposals
    currency = customer.limit_currency or policy.currency
    places = Decimal(1).scaleb(-minor_units(currency))
    # The exposure each order asked for: what was owed and reserved before it, plus the order. By month.
    peaks: dict[str, Decimal] = {}
    for row in case.decisions:
        asked = _in(row.exposure_minor + row.amount_minor, row.currency, currency, rates)
        if asked is None:
            continue
        month = row.decided_at.strftime("%Y-%m")
        peaks[month] = max(peaks.get(month, Decimal(0)), asked)
    latest = case.decisions[-1]
    limit_now = _in(latest.credit_limit_minor, latest.currency, currency, rates)
    manual = customer.manual_limit_minor if customer.limit_currency == currency else None
    if limit_now is not None and manual is not None:
        limit_now = max(limit_now, from_minor(manual, currency))  # a manual limit set since the latest decision
    report = latest.report or {}
    candidates: dict[str, Decimal] = {}
    if peaks:
        candidates["exposure_multiple"] = max(peaks.values()) * rules.exposure_multiple
    recommended = report.get("recommended_limit")
    if recommended is not None:
        in_currency = rates.rate(currency, report.get("limit_currency") or policy.currency)
        if in_currency is not None:
            candidates["share_of_recommended"] = Decimal(recommended) * in_currency * rules.share_of_recommended
    if rules.cap is not None:
        rate = rates.rate(currency, policy.currency)
        if rate is not None:
            candidates["cap"] = rules.cap * rate
    if not candidates or limit_now is None:
        return None
    rule = min(candidates, key=lambda name: candidates[name])
    amount = candidates[rule].quantize(places, rounding=ROUND_DOWN)
    if amount <= limit_now:
        return None
    held_amount = sum(
        ((_in(row.amount_minor, row.currency, currency, rates) or Decimal(0)) for row in case.held), Decimal(0)
    )
    explanation = {
        "rule": rule,
        "lookback_days": days,
        "held_back_orders": [row.order_id for row in case.held],
        "held_back_amount": format_minor(to_minor(held_amount.quantize(places), currency), currency),
        "current_limit": format_minor(to_minor(limit_now.quantize(places), currency), currency),
        "peak_monthly_exposure": {month: str(value.quantize(places)) for month, value in sorted(peaks.items())},
        "exposure_multiple": str(rules.exposure_multiple),
        "recommended_limit": recommended,
        "share_of_recommended": str(rules.share_of_recommended),
        "cap": None if rules.cap is None else str(rules.cap),
        "candidates": {name: str(value.quantize(places, rounding=ROUND_DOWN)) for name, value in candidates.items()},
        "risk_class": report.get("risk_class"),
        "payment_record": record,
    }
    reason = (
        f"Proposed by the opportunities pass: {len(case.held)} order(s) over the available credit in "
        f"{days} days; the lowest of the rule's figures is {rule.replace('_', ' ')}."
    )
    return request_values(
        customer,
        "standing",
        "customer",
        currency,
        to_minor(amount, currency),
        starts_at=None,
        ends_at=None,
        reason=reason,
        requested_by=OPPORTUNITIES,
        role=OPPORTUNITIES,
        valid_until=now + timedelta(days=policy.limits.request_valid_days),
        four_eyes=_four_eyes(amount, currency, policy, rates),
        now=now,
        proposal=explanation,
    )


def _four_eyes(amount: Decimal, currency: str, policy: PolicyDocument, rates: RateTable) -> bool:
    threshold = policy.limits.four_eyes_above or policy.review.four_eyes_above
    if threshold is None:
        return False
    rate = rates.rate(currency, policy.currency)
    return rate is None or amount > threshold * rate
