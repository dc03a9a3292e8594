"""The read side: a customer's credit file and the portfolio, computed from stored rows on each read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.active_policy import ActivePolicy
from app.arrangements.schemas import ArrangementOut
from app.arrangements.service import arrangement_out, grace_days, open_judged_of
from app.customers import repository
from app.customers.exposure import ExposureSums, combined, in_currency, sums_by_customer
from app.customers.models import Customer
from app.customers.rates import RateTable, convert_sums
from app.customers.schemas import LimitChangeOut
from app.customers.service import limit_change_out
from app.db import Database, utcnow
from app.decisions import repository as decisions
from app.decisions.behaviour import figures_of
from app.decisions.models import Decision, Review
from app.decisions.query import DecisionFilters
from app.decisions.schemas import DecisionOut, ReasonOut
from app.decisions.standing import Standing, credit_standing
from app.errors import NotFound
from app.fields import utc_text
from app.insurance import repository as insurance
from app.money import format_minor, from_minor, quantize
from app.monitoring import repository as monitoring
from app.monitoring.models import CustomerCreditState
from app.policy.behaviour import BehaviourFigures, score, weighted_days_beyond_terms
from app.policy.facts import Evaluation
from app.policy.schema import PolicyDocument
from app.providers.base import CompanyQuery
from app.providers.reports import ReportService
from app.readside.insurance import InsuranceOut, insurance_out, portfolio_insured
from app.readside.portfolio_figures import (
    CustomerFigure,
    DsoPoint,
    OverdueCustomer,
    TopExposure,
    UtilisationBand,
    figures,
    month_ends,
)
from app.schemas import Money
from app.signals import repository as signal_rows
from app.signals.schemas import SignalOut
from app.signals.service import signal_out

DecisionView = Callable[[Decision, Review | None], DecisionOut]
WINDOW_DAYS = 90
HISTORY_ROWS = 10  # limit changes shown in the file


class UpliftOut(BaseModel):
    amount: Money
    starts_at: datetime | None
    ends_at: datetime | None
    in_force: bool = Field(description="Whether a decision now adds it to the limit (the amount above includes it).")
    reason: str | None


class LimitOut(BaseModel):
    amount: Money | None
    source: Literal["manual", "policy", "blocked", "insolvent", "latest_decision", "none"] = Field(
        description="What sets the limit: a manual limit, the policy's grid on the report a decision would use "
        "now, a block or an insolvency (zero); `latest_decision` and `none` in the portfolio's list."
    )
    reason: str | None = None
    expires_at: datetime | None = None
    decision_id: str | None = None
    decided_at: datetime | None = None
    uplift: UpliftOut | None = Field(default=None, description="A temporary uplift set, in force or not yet/no more.")


class ExposureOut(BaseModel):
    open_receivables: Money
    reserved: Money
    total: Money


class GroupOut(BaseModel):
    id: str
    limit: Money
    exposure: Money
    available_credit: Money


class FigureOut(BaseModel):
    value: str | None = Field(description="Days, a share (0–1) or an amount in `currency`; null without data.")
    window_days: int = Field(description="The days up to `as_of` the figure covers.")
    invoices: int = Field(description="How many invoices it came from.")
    payments: int = Field(description="How many payments it came from.")
    decisions: int = Field(description="How many stored decisions it came from (requests for longer terms).")


class ContributionOut(BaseModel):
    figure: str
    value: str | None
    points: int


class BehaviourScoreOut(BaseModel):
    policy_version: str
    points: int | None = Field(description="Null below the minimum experience: no score, not a perfect one.")
    risk_class: str | None = Field(description="A–E by total points; null below the minimum experience.")
    paid_invoices: int
    minimum_paid_invoices: int
    contributions: list[ContributionOut]


class GroupBehaviourOut(BaseModel):
    """The same figures over every member of the customer's group, as if one customer held their ledgers."""

    group_id: str = Field(description="The parent's id.")
    members: list[str] = Field(description="The group's customers, the parent included when it is stored.")
    paid_invoices: int
    figures: dict[str, FigureOut]
    unpriced_currencies: list[str]
    score: BehaviourScoreOut | None = Field(description="Null when the active policy has no behaviour section.")


class BehaviourOut(BaseModel):
    """The customer's payment behaviour from its own invoices and payments (docs/behaviour.md)."""

    customer_id: str
    as_of: date
    currency: str = Field(description="The policy's currency: amounts are converted into it.")
    paid_invoices: int = Field(description="Invoices with a payment in the last 12 months.")
    figures: dict[str, FigureOut]
    unpriced_currencies: list[str] = Field(description="Currencies left out: no pushed rate converts them.")
    score: BehaviourScoreOut | None = Field(description="Null when the active policy has no behaviour section.")
    group: GroupBehaviourOut | None = Field(
        description="The figures over the customer's group (customers sharing a parent); null outside a group."
    )


def _score_out(figures: BehaviourFigures, policy: PolicyDocument) -> BehaviourScoreOut | None:
    if policy.behaviour is None:
        return None
    scored = score(figures, policy.behaviour)
    return BehaviourScoreOut(
        policy_version=policy.version,
        points=scored.points,
        risk_class=scored.risk_class,
        paid_invoices=scored.paid_invoices,
        minimum_paid_invoices=scored.minimum_paid_invoices,
        contributions=[ContributionOut(**c.as_dict()) for c in scored.contributions],
    )


def _figures_out(figures: BehaviourFigures) -> dict[str, FigureOut]:
    return {name: FigureOut(**figure.to_json()) for name, figure in figures.figures.items()}


def behaviour_out(customer_id: str, figures: BehaviourFigures, policy: PolicyDocument) -> BehaviourOut:
    group = None
    if figures.group is not None:
        of_group = figures.group.figures
        group = GroupBehaviourOut(
            group_id=figures.group.group_id,
            members=list(figures.group.members),
            paid_invoices=of_group.paid_invoices,
            figures=_figures_out(of_group),
            unpriced_currencies=list(of_group.unpriced_currencies),
            score=_score_out(of_group, policy),
        )
    return BehaviourOut(
        customer_id=customer_id,
        as_of=figures.as_of,
        currency=figures.currency,
        paid_invoices=figures.paid_invoices,
        figures=_figures_out(figures),
        unpriced_currencies=list(figures.unpriced_currencies),
        score=_score_out(figures, policy),
        group=group,
    )


class CreditFile(BaseModel):
    customer_id: str
    currency: str = Field(description="The customer's limit currency (the policy's when none is set).")
    as_of: datetime
    blocked: bool
    block_reason: str | None
    limit: LimitOut
    exposure: ExposureOut
    available_credit: Money | None = Field(
        description="What a decision taken now has left on credit: the limit less exposure, capped by the "
        "group, zero while blocked, insolvent or stopped by overdue invoices (see `credit_reasons`)."
    )
    credit_reasons: list[ReasonOut] = Field(
        description="The decision evaluator's reasons for these figures, as a decision taken now gives them."
    )
    risk_class: str = Field(description="The risk class a decision taken now applies.")
    overdue_amount: Money
    oldest_overdue_days: int
    group: GroupOut | None
    dbt_days: Decimal | None = Field(description="Amount-weighted days beyond terms of payments in 90 days.")
    dso_days: Decimal | None = Field(description="Open receivables / sales invoiced in 90 days × 90.")
    unpriced_currencies: list[str] = Field(description="Currencies owed in that no pushed rate converts.")
    rates: dict[str, str] = Field(description="Units of `currency` per one unit of each currency used.")
    latest_report: dict[str, Any] | None = Field(
        description="The cached report a decision would use now (else the latest decision's), with a provider's "
        "newer pushed rating or insolvency overlaid (`pushed_at`)."
    )
    recent_decisions: list[DecisionOut]
    behaviour: BehaviourOut = Field(description="Payment-behaviour figures and, under the policy, their score.")
    arrangements: list[ArrangementOut] = Field(
        description="Open payment arrangements (kept or broken), judged as of today, oldest first."
    )
    signals: list[SignalOut] = Field(description="Open and acknowledged early-warning signals, newest first.")
    insurance: InsuranceOut = Field(description="The credit insurer's cover, and the exposure it protects.")
    limit_history: list[LimitChangeOut] = Field(
        description="The latest changes of the limit, newest first (all of them: GET …/limit-history)."
    )


class OverLimit(BaseModel):
    customer_id: str
    limit: Money
    exposure: Money


class BlockedCustomer(BaseModel):
    customer_id: str
    reason: str | None


class Portfolio(BaseModel):
    currency: str = Field(description="The credit policy's currency.")
    as_of: datetime
    total_exposure: Money
    insured_exposure: Money = Field(
        description="The part of the total the customers' covers in force protect (docs/insurance.md)."
    )
    uninsured_exposure: Money = Field(description="The seller's own risk: total_exposure − insured_exposure.")
    open_receivables: Money
    reserved: Money
    overdue_by_age: dict[str, Money] = Field(description="Days past due: 0-30, 31-60, 61-90, 90+.")
    dso_days: Decimal | None
    customers_over_limit: list[OverLimit]
    blocked_customers: list[BlockedCustomer]
    unpriced_currencies: list[str]
    available_credit: Money = Field(description="Limits less exposure, over customers with a limit, not blocked.")
    dso_trend: list[DsoPoint] = Field(description="DSO at the end of each of the last months, and today.")
    utilisation: list[UtilisationBand] = Field(description="Customers and exposure by share of their limit used.")
    customers_with_overdue: list[OverdueCustomer] = Field(description="Largest overdue first.")
    top_exposures: list[TopExposure] = Field(description="The 10 largest exposures.")
    top_exposures_share: Decimal | None = Field(description="The 10 largest exposures' share of the total, 0 to 1.")
    exposure_by_risk_class: dict[str, Money] = Field(description="By the latest decision's risk class.")


class CreditFileService:
    def __init__(
        self, database: Database, active_policy: ActivePolicy, decision_view: DecisionView, reports: ReportService
    ) -> None:
        self.database = database
        self.reports = reports
        self.active_policy = active_policy
        self.decision_view = decision_view

    async def credit_file(self, customer_id: str) -> CreditFile:
        """The file as the next decision would see it: limit, exposure and available credit are those the
        decision path's evaluator gives now (`app.decisions.standing`), with the reasons that shaped them."""
        policy = await self.active_policy()
        now = utcnow()
        today = now.date()
        async with self.database.read() as session:
            customer = await repository.get_customer(session, customer_id)
            if customer is None:
                raise NotFound(f"no customer {customer_id}")
            rates = await repository.rate_table(session)
            currency = customer.limit_currency or policy.currency
            company = (
                CompanyQuery(customer.country, customer.registration_number, customer.name)
                if customer.registration_number
                else None
            )
            report = await self.reports.cached(session, company, policy)
            standing = await credit_standing(session, customer, report.facts, policy, rates, now)
            recent = await decisions.list_decisions(session, DecisionFilters(customer_id=customer_id), 10, None)
            settled = await decisions.settling_reviews(session, [row.id for row in recent])
            state = await monitoring.get_state(session, customer_id)
            sales = await repository.sales_since(session, customer_id, today - timedelta(days=WINDOW_DAYS))
            payments = await repository.payments_since(session, customer_id, today - timedelta(days=WINDOW_DAYS))
            figures = await figures_of(session, [customer], as_of=today, currency=policy.currency, rates=rates)
            grace = grace_days(policy)
            arranged = (await open_judged_of(session, [customer_id], as_of=today, grace=grace)).get(customer_id, [])
            warnings = await signal_rows.active_signals(session, [customer_id])
            history = await repository.limit_history(session, customer_id, HISTORY_ROWS)
        evaluation, exposure = standing.evaluation, standing.own
        limit = _limit(customer, evaluation, recent[0] if recent else None, currency, now)
        limit.uplift = _uplift(customer, now)
        priced = standing.priced
        unpriced = set(exposure.unpriced_currencies)
        sold = convert_sums({currency_: int(amount) for currency_, amount in sales}, currency, rates)
        snapshot = report.snapshot or (recent[0].report if recent else None)
        return CreditFile(
            customer_id=customer.id,
            currency=currency,
            as_of=now,
            blocked=customer.blocked,
            block_reason=customer.block_reason,
            limit=limit,
            exposure=ExposureOut(
                open_receivables=str(exposure.open_receivables),
                reserved=str(exposure.reserved),
                total=str(exposure.total),
            ),
            available_credit=str(quantize(evaluation.available_credit, currency)) if priced else None,
            credit_reasons=[ReasonOut(**reason.as_dict()) for reason in evaluation.reasons],
            risk_class=evaluation.risk_class,
            overdue_amount=str(exposure.overdue_amount),
            oldest_overdue_days=exposure.oldest_overdue_days,
            group=_group(standing),
            dbt_days=_dbt(payments),
            dso_days=_dso(exposure.open_receivables, sold.amount),
            unpriced_currencies=sorted(unpriced | sold.unpriced),
            rates={code: str(rate) for code, rate in sorted({**exposure.rates_used, **sold.used}.items())},
            latest_report=_known_report(snapshot, state),
            recent_decisions=[self.decision_view(row, settled.get(row.id)) for row in recent],
            behaviour=behaviour_out(customer_id, figures[customer_id], policy),
            arrangements=[arrangement_out(one, grace) for one in sorted(arranged, key=lambda one: one.row.created_at)],
            signals=[signal_out(row) for row in sorted(warnings, key=lambda row: row.raised_at, reverse=True)],
            insurance=insurance_out(exposure, standing.cover, rates, today, policy),
            limit_history=[limit_change_out(row) for row in history],
        )

    async def behaviour(self, customer_id: str) -> BehaviourOut:
        """The figures as of today and their score under the active policy."""
        policy = await self.active_policy()
        today = utcnow().date()
        async with self.database.read() as session:
            customer = await repository.get_customer(session, customer_id)
            if customer is None:
                raise NotFound(f"no customer {customer_id}")
            rates = await repository.rate_table(session)
            figures = await figures_of(session, [customer], as_of=today, currency=policy.currency, rates=rates)
        return behaviour_out(customer_id, figures[customer_id], policy)

    async def portfolio(self) -> Portfolio:
        policy = await self.active_policy()
        now = utcnow()
        today = now.date()
        currency = policy.currency
        async with self.database.read() as session:
            rows = await repository.exposure_rows(session, None, today=today, now=now)
            rates = await repository.rate_table(session)
            buckets = await repository.overdue_buckets(session, today)
            sales = await repository.sales_since(session, None, today - timedelta(days=WINDOW_DAYS))
            blocked = await repository.blocked_customers(session)
            sums = sums_by_customer(rows)
            customer_ids = sorted(sums)
            customers = await repository.customers_by_id(session, customer_ids)
            latest = await decisions.latest_limits(session, customer_ids)
            then = [(day, await repository.receivables_then(session, day)) for day in month_ends(today)]
            covers = await insurance.covers_of(session, customer_ids)
        total = in_currency(combined(sums.values()), currency, rates, today)
        insured = quantize(min(total.total, portfolio_insured(sums, covers, currency, rates, today)), currency)
        per_customer = figures(
            _customer_figures(sums, customers, latest, currency, rates, today, now), total.total, currency
        )
        trend = [
            DsoPoint(
                as_of=day,
                dso_days=_dso(
                    convert_sums({code: int(amount) for code, amount in owed}, currency, rates).amount,
                    convert_sums({code: int(amount) for code, amount in sold_then}, currency, rates).amount,
                ),
            )
            for day, (owed, sold_then) in then
        ]
        ages: dict[str, dict[str, int]] = {name: {} for name in repository.PORTFOLIO_BUCKETS}
        for bucket, code, amount in buckets:
            ages[bucket][code] = ages[bucket].get(code, 0) + int(amount)
        aged = {name: convert_sums(amounts, currency, rates) for name, amounts in ages.items()}
        sold = convert_sums({code: int(amount) for code, amount in sales}, currency, rates)
        over = _over_limit(sums, customers, latest, rates, today, now)
        unpriced = set(total.unpriced_currencies) | sold.unpriced
        for converted in aged.values():
            unpriced |= converted.unpriced
        return Portfolio(
            currency=currency,
            as_of=now,
            total_exposure=str(total.total),
            insured_exposure=str(insured),
            uninsured_exposure=str(total.total - insured),
            open_receivables=str(total.open_receivables),
            reserved=str(total.reserved),
            overdue_by_age={name: str(converted.amount) for name, converted in aged.items()},
            dso_days=_dso(total.open_receivables, sold.amount),
            customers_over_limit=over,
            blocked_customers=[BlockedCustomer(customer_id=row.id, reason=row.block_reason) for row in blocked],
            unpriced_currencies=sorted(unpriced),
            available_credit=str(quantize(per_customer.available_credit, currency)),
            dso_trend=[*trend, DsoPoint(as_of=today, dso_days=_dso(total.open_receivables, sold.amount))],
            utilisation=per_customer.utilisation,
            customers_with_overdue=per_customer.customers_with_overdue,
            top_exposures=per_customer.top_exposures,
            top_exposures_share=per_customer.top_share,
            exposure_by_risk_class=per_customer.exposure_by_risk_class,
        )


def _uplift(customer: Customer, now: datetime) -> UpliftOut | None:
    if customer.uplift_minor is None or customer.limit_currency is None:
        return None
    starts, ends = customer.uplift_starts_at, customer.uplift_ends_at
    return UpliftOut(
        amount=format_minor(customer.uplift_minor, customer.limit_currency),
        starts_at=starts,
        ends_at=ends,
        in_force=(starts is None or starts <= now) and (ends is None or now < ends),
        reason=customer.uplift_reason,
    )


def _limit(
    customer: Customer, evaluation: Evaluation, latest: Decision | None, currency: str, now: datetime
) -> LimitOut:
    """The limit the evaluator gives now, and what set it (a block or insolvency sets none: zero)."""
    codes = {reason.code for reason in evaluation.reasons}
    seen = {"decision_id": latest.id, "decided_at": latest.decided_at} if latest is not None else {}
    if "FX_RATE_UNAVAILABLE" in codes:
        return LimitOut(amount=None, source="none", **seen)
    amount = str(quantize(evaluation.credit_limit, currency))
    if customer.blocked:
        return LimitOut(amount=amount, source="blocked", reason=customer.block_reason, **seen)
    if evaluation.risk_class == "insolvent":
        return LimitOut(amount=amount, source="insolvent", **seen)
    # The overdue stop replaces the evaluator's reasons with its own: the master data says whether the
    # limit is the manual one (`customer_facts` leaves an expired one out alike).
    expires = customer.manual_limit_expires_at
    expired = next((reason for reason in evaluation.reasons if reason.code == "MANUAL_LIMIT_EXPIRED"), None)
    held = "MANUAL_LIMIT" in codes or (expired is not None and expired.facts.get("fallback") == "zero")
    in_force = (
        customer.manual_limit_minor is not None and customer.limit_currency and (expires is None or expires > now)
    )
    if held or in_force:
        return LimitOut(amount=amount, source="manual", reason=customer.manual_limit_reason, expires_at=expires, **seen)
    return LimitOut(amount=amount, source="policy", **seen)


def _decided_limit(
    customer: Customer, latest: Decision | None, currency: str, rates: RateTable, now: datetime
) -> LimitOut:
    """The portfolio's limit: a manual override in force, else the latest decision's limit."""
    manual_expires = customer.manual_limit_expires_at
    in_force = manual_expires is None or manual_expires > now
    if customer.manual_limit_minor is not None and customer.limit_currency is not None and in_force:
        amount = from_minor(customer.manual_limit_minor, customer.limit_currency)
        return LimitOut(
            amount=str(amount), source="manual", reason=customer.manual_limit_reason, expires_at=manual_expires
        )
    if latest is None:
        return LimitOut(amount=None, source="none")
    converted = convert_sums({latest.currency: latest.credit_limit_minor}, currency, rates)
    if converted.unpriced:
        return LimitOut(amount=None, source="none", decision_id=latest.id, decided_at=latest.decided_at)
    return LimitOut(
        amount=str(converted.amount), source="latest_decision", decision_id=latest.id, decided_at=latest.decided_at
    )


def _group(standing: Standing) -> GroupOut | None:
    root, group = standing.root, standing.group
    if root is None or group is None or root.group_limit_minor is None or root.limit_currency is None:
        return None
    # The group's own figures in its limit currency; the customer's share of it is in `credit_reasons`.
    limit = from_minor(root.group_limit_minor, root.limit_currency)
    rate = Decimal(1) if root.limit_currency == group.currency else standing.rates.get(root.limit_currency)
    if rate is None:
        return None
    total = quantize(group.total / rate, root.limit_currency)
    return GroupOut(
        id=root.id,
        limit=str(limit),
        exposure=str(total),
        available_credit=str(quantize(max(Decimal(0), limit - total), root.limit_currency)),
    )


def _known_report(snapshot: dict[str, Any] | None, state: CustomerCreditState | None) -> dict[str, Any] | None:
    """The report as creditgate knows it: a provider's pushed rating (monitoring) newer than it overlays it."""
    if snapshot is None or state is None or state.report_fetched_at is None:
        return snapshot
    if datetime.fromisoformat(snapshot["fetched_at"]) >= state.report_fetched_at:
        return snapshot
    return {
        **snapshot,
        "risk_class": state.risk_class,
        "score": state.score,
        "status": state.status,
        "pushed_at": utc_text(state.report_fetched_at),
    }


def _over_limit(
    sums: dict[str, ExposureSums],
    customers: dict[str, Customer],
    latest: dict[str, Decision],
    rates: RateTable,
    today: date,
    now: datetime,
) -> list[OverLimit]:
    over = []
    for customer_id, customer_sums in sums.items():
        customer = customers.get(customer_id)
        own = _own_limit(customer, latest.get(customer_id), rates, now) if customer is not None else None
        if own is None:
            continue
        currency, limit = own
        exposure = in_currency(customer_sums, currency, rates, today)
        if exposure.total > limit:
            over.append(OverLimit(customer_id=customer_id, limit=str(limit), exposure=str(exposure.total)))
    return over


def _own_limit(
    customer: Customer, decision: Decision | None, rates: RateTable, now: datetime
) -> tuple[str, Decimal] | None:
    """The portfolio's limit of a customer in its own currency (its limit currency, else its latest
    decision's), or None when it has none."""
    currency = customer.limit_currency or (decision.currency if decision is not None else None)
    if currency is None:
        return None
    amount = _decided_limit(customer, decision, currency, rates, now).amount
    return None if amount is None else (currency, Decimal(amount))


def _customer_figures(
    sums: dict[str, ExposureSums],
    customers: dict[str, Customer],
    latest: dict[str, Decision],
    currency: str,
    rates: RateTable,
    today: date,
    now: datetime,
) -> list[CustomerFigure]:
    """Each customer's exposure, limit (the one `_over_limit` compares with) and overdue, in `currency`."""
    found = []
    for customer_id, customer_sums in sums.items():
        customer = customers.get(customer_id)
        decision = latest.get(customer_id)
        exposure = in_currency(customer_sums, currency, rates, today)
        limit = None
        own = _own_limit(customer, decision, rates, now) if customer is not None else None
        if own is not None and (rate := rates.rate(currency, own[0])) is not None:
            limit = quantize(own[1] * rate, currency)
        found.append(
            CustomerFigure(
                customer_id=customer_id,
                exposure=exposure.total,
                limit=limit,
                overdue=exposure.overdue_amount,
                oldest_overdue_days=exposure.oldest_overdue_days,
                risk_class=decision.risk_class if decision is not None else "unrated",
                blocked=bool(customer is not None and customer.blocked),
            )
        )
    return found


def _dso(open_receivables: Decimal, sales: Decimal) -> Decimal | None:
    if sales <= 0:
        return None
    return (open_receivables / sales * WINDOW_DAYS).quantize(Decimal("0.1"))


def _dbt(payments: Sequence[Any]) -> Decimal | None:
    """Days beyond terms, weighted by amount (amounts in minor units of each payment's currency)."""
    return weighted_days_beyond_terms((Decimal(amount), paid_on, due) for _currency, amount, paid_on, due in payments)
