"""The pure credit decision: (order, customer, report, exposure, policy, rates) → evaluation with reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from app.money import quantize
from app.policy.arrangements import ArrangementFacts
from app.policy.behaviour import BehaviourFigures, BehaviourScore, score
from app.policy.facts import (
    CoverFacts,
    CustomerFacts,
    DecisionInputs,
    Evaluation,
    ExposureFacts,
    OrderFacts,
    Outcome,
    Reason,
    ReportFacts,
    TradingFacts,
)
from app.policy.rules import (
    ArrangedOverdue,
    arranged_overdue_check,
    converted,
    extension_stop,
    insured_split,
    small_order,
)
from app.policy.schema import RATED_CLASSES, Cell, PolicyDocument

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class _Context:
    order: OrderFacts
    customer: CustomerFacts
    report: ReportFacts
    exposure: ExposureFacts
    policy: PolicyDocument
    segment: str
    risk_class: str
    arranged: ArrangedOverdue
    behaviour: _Behaviour | None = None
    arrangements: ArrangementFacts | None = None
    cover: CoverFacts | None = None
    trading: TradingFacts | None = None

    @property
    def kept_arrangements(self) -> bool:
        """Kept arrangements count only under a policy with an `arrangements` section."""
        return self.policy.arrangements is not None and self.arrangements is not None and bool(self.arrangements.kept)

    def money(self, amount: Decimal) -> str:
        return str(quantize(amount, self.order.currency))


@dataclass(frozen=True, slots=True)
class _Behaviour:
    """What the customer's payment behaviour does to this decision: a reason, and review or prepayment."""

    reason: Reason
    action: Outcome | None


@dataclass(frozen=True, slots=True)
class _Terms:
    """The payment terms an order on credit gets, and whether a person must look at the ones it asked for."""

    days: int
    review: bool
    reason: Reason | None


class _MissingRate(Exception):
    def __init__(self, currency: str) -> None:
        self.currency = currency


def evaluate(
    order: OrderFacts,
    customer: CustomerFacts,
    report: ReportFacts,
    exposure: ExposureFacts,
    policy: PolicyDocument,
    rates: Mapping[str, Decimal],
    behaviour: BehaviourFigures | None = None,
    *,
    arrangements: ArrangementFacts | None = None,
    cover: CoverFacts | None = None,
    trading: TradingFacts | None = None,
) -> Evaluation:
    """Decide on one order. `rates` gives order-currency units per one unit of each other currency.

    `behaviour` (the customer's payment figures) counts only when the policy has a `behaviour` section,
    `arrangements` (its kept and broken payment arrangements) only when it has an `arrangements` section;
    `cover` is the credit insurer's cover in force (its insured share of the exposure is always explained);
    under the policy's `insurance` section it and `trading` (the trading history) set the limit."""
    segment = customer.segment if customer.segment in policy.segments else policy.default_segment
    bureau_class = _risk_class(report, policy)
    risk_class, assessed = _with_behaviour(bureau_class, report, policy, behaviour)
    arranged = arranged_overdue_check(
        exposure.overdue_amount, exposure.oldest_overdue_days, arrangements, order.currency, policy, rates
    )
    ctx = _Context(
        order, customer, report, exposure, policy, segment, risk_class, arranged, assessed, arrangements, cover, trading
    )
    evaluation = _decide(ctx, rates)
    insured = _reason_insured(ctx, rates)
    return evaluation if insured is None else replace(evaluation, reasons=(*evaluation.reasons, insured))


def evaluate_inputs(order: OrderFacts, inputs: DecisionInputs, policy: PolicyDocument) -> Evaluation:
    """`evaluate` on every fact a decision stores: how a decision is taken, and how replay takes it again."""
    return evaluate(
        order,
        inputs.customer,
        inputs.report,
        inputs.exposure,
        policy,
        inputs.rates,
        inputs.behaviour,
        arrangements=inputs.arrangements,
        cover=inputs.cover,
        trading=inputs.trading,
    )


def _decide(ctx: _Context, rates: Mapping[str, Decimal]) -> Evaluation:
    customer, report = ctx.customer, ctx.report

    if customer.blocked:
        return _without_credit(ctx, Outcome.REJECT, _reason_blocked(customer), terms=0, limit=ZERO)
    if ctx.risk_class == "insolvent":
        reason = Reason(
            "INSOLVENT",
            "The provider reports the company as insolvent.",
            "risk_class.insolvent",
            {"provider": report.provider, "reference": report.reference},
        )
        return _without_credit(ctx, Outcome.REJECT, reason, terms=0, limit=ZERO)
    evaluation = _before_stop_rules(ctx, rates)
    overdue = _overdue_stop(ctx)
    stops = [stop for stop in (overdue, _extension_stop(ctx)) if stop is not None]
    if stops:
        evaluation = _stopped(ctx, evaluation, stops, Outcome(ctx.policy.stop.outcome))
    if (
        overdue is None
        and ctx.kept_arrangements
        and not any(r.code == "PAYMENT_ARRANGEMENT_KEPT" for r in evaluation.reasons)
    ):
        evaluation = replace(evaluation, reasons=(*evaluation.reasons, _reason_kept(ctx, rates)))
    broken = _broken_arrangements(ctx)
    if broken is not None:
        reason, outcome = broken
        evaluation = _stopped(ctx, evaluation, [reason], outcome)
    return evaluation


def _before_stop_rules(ctx: _Context, rates: Mapping[str, Decimal]) -> Evaluation:
    report, policy, order = ctx.report, ctx.policy, ctx.order
    if report.source == "not_found":
        reason = Reason(
            "COMPANY_NOT_FOUND",
            "The provider has no company with this registration number.",
            "company_not_found",
            {"provider": report.provider},
        )
        return _fallback(ctx, Outcome(policy.company_not_found), reason)
    if report.source == "unavailable":
        return _provider_unavailable(ctx, rates)

    try:
        return _rated(ctx, rates)
    except _MissingRate as missing:
        reason = Reason(
            "FX_RATE_UNAVAILABLE",
            f"No exchange rate from {missing.currency} to {order.currency} is known.",
            "currency",
            {"from": missing.currency, "to": order.currency},
        )
        return _without_credit(ctx, Outcome.REVIEW, reason, terms=0, limit=ZERO)


def _stopped(ctx: _Context, evaluation: Evaluation, stops: list[Reason], outcome: Outcome) -> Evaluation:
    """No delivery on credit; the stop never turns a review or reject into a better outcome."""
    if evaluation.approved_credit_amount == ZERO and evaluation.outcome.rank <= outcome.rank:
        return replace(evaluation, reasons=(*evaluation.reasons, *stops))
    prepayment = ctx.order.amount if outcome is Outcome.PREPAYMENT else ZERO
    terms = 0 if outcome is Outcome.PREPAYMENT else evaluation.payment_terms_days
    return _result(
        ctx,
        outcome=outcome,
        limit=evaluation.credit_limit,
        available=ZERO,
        approved=ZERO,
        prepayment=prepayment,
        terms=terms,
        reasons=stops,
    )


def _risk_class(report: ReportFacts, policy: PolicyDocument) -> str:
    if report.risk_class is not None:
        return report.risk_class
    if report.score is not None:
        return policy.score_bands.classify(report.score)
    return "unknown"


def _with_behaviour(
    bureau_class: str, report: ReportFacts, policy: PolicyDocument, figures: BehaviourFigures | None
) -> tuple[str, _Behaviour | None]:
    """The risk class the grid is read with, and the behaviour's effect, under the policy's `behaviour`."""
    rules = policy.behaviour
    if rules is None or figures is None or bureau_class == "insolvent":
        return bureau_class, None
    if report.source in ("not_found", "unavailable"):
        return bureau_class, None
    if report.source == "none" and not rules.apply_without_report:
        return bureau_class, None
    own = score(figures, rules)
    group = None
    if rules.group == "worse_of" and figures.group is not None:
        group = score(figures.group.figures, rules)
    scored = [result.risk_class for result in (own, group) if result is not None and result.risk_class is not None]
    if not scored:
        return bureau_class, None
    behaviour_class = max(scored, key=RATED_CLASSES.index)
    risk_class = bureau_class
    if rules.combine == "worse_of" and bureau_class in RATED_CLASSES:
        risk_class = max(bureau_class, behaviour_class, key=RATED_CLASSES.index)
    # Review before prepayment, as the grid's review threshold comes before full prepayment: with both lists
    # closed towards the worse classes, a worse behaviour class never gets the better outcome.
    action = None
    if behaviour_class in rules.review_classes:
        action = Outcome.REVIEW
    elif behaviour_class in rules.prepayment_classes:
        action = Outcome.PREPAYMENT
    if risk_class == bureau_class and action is None:
        return bureau_class, None
    reason = _reason_behaviour(own, group, behaviour_class, figures, bureau_class, risk_class, action)
    return risk_class, _Behaviour(reason, action)


def _reason_behaviour(
    own: BehaviourScore,
    group: BehaviourScore | None,
    behaviour_class: str,
    figures: BehaviourFigures,
    bureau_class: str,
    risk_class: str,
    action: Outcome | None,
) -> Reason:
    facts: dict[str, Any] = {
        "behaviour_class": behaviour_class,
        "points": own.points,
        "bureau_class": bureau_class,
        "risk_class": risk_class,
        "action": None if action is None else action.value,
        "as_of": figures.as_of.isoformat(),
        "figures": _values(figures),
        "contributions": [c.as_dict() for c in own.contributions],
    }
    whose = "The customer's own payment record"
    if group is not None and figures.group is not None:
        facts["own_class"] = own.risk_class
        facts["group"] = {
            "group_id": figures.group.group_id,
            "class": group.risk_class,
            "points": group.points,
            "figures": _values(figures.group.figures),
            "contributions": [c.as_dict() for c in group.contributions],
        }
        whose = "The payment record of the customer and its group"
    return Reason("PAYMENT_BEHAVIOUR_DETERIORATED", f"{whose} scores class {behaviour_class}.", "behaviour", facts)


def _values(figures: BehaviourFigures) -> dict[str, str | None]:
    return {name: None if f.value is None else str(f.value) for name, f in figures.figures.items()}


def _convert(amount: Decimal, currency: str, ctx: _Context, rates: Mapping[str, Decimal]) -> Decimal:
    result = converted(amount, currency, ctx.order.currency, rates)
    if result is None:
        raise _MissingRate(currency)
    return result


def _rated(ctx: _Context, rates: Mapping[str, Decimal]) -> Evaluation:
    policy, order, exposure = ctx.policy, ctx.order, ctx.exposure
    cell = policy.cell(ctx.risk_class, ctx.segment)
    reasons: list[Reason] = []
    _require_priced(ctx)
    if ctx.report.source == "none":
        reasons.append(_reason_no_report(ctx, rates))
    elif ctx.report.source == "stale":
        reasons.append(
            Reason(
                "STALE_REPORT",
                "The provider was unavailable; an older cached report was used.",
                "reports.max_age_days",
                {"max_age_days": policy.reports.max_age_days},
            )
        )

    if ctx.behaviour is not None:
        reasons.append(ctx.behaviour.reason)
    terms = _terms(ctx, cell)
    if terms.reason is not None:
        reasons.append(terms.reason)
    limit = _credit_limit(ctx, cell, rates, reasons)
    available = _group_cap(ctx, max(ZERO, limit - exposure.total), rates, reasons)
    new_credit = None
    if ctx.kept_arrangements:
        reasons.append(_reason_kept(ctx, rates))
        assert policy.arrangements is not None
        new_credit = policy.arrangements.new_credit
        if new_credit == "cap" and policy.arrangements.new_credit_cap is not None:
            available = min(available, _convert(policy.arrangements.new_credit_cap, policy.currency, ctx, rates))

    review_above = _convert(cell.review_above, policy.currency, ctx, rates) if cell.review_above is not None else None
    above_review = False
    if review_above is not None and order.amount > review_above:
        above_review = True
        reasons.append(
            Reason(
                "ABOVE_REVIEW_THRESHOLD",
                "The order is above the amount that a credit manager reviews.",
                f"grid.{ctx.risk_class}.{ctx.segment}.review_above",
                {"amount": ctx.money(order.amount), "review_above": ctx.money(review_above)},
            )
        )
    # Above the review threshold, a payment behaviour the policy sends to review, or longer terms than the
    # policy grants alone: a person decides.
    action = ctx.behaviour.action if ctx.behaviour is not None else None
    if above_review or action is Outcome.REVIEW or terms.review:
        return _result(
            ctx,
            outcome=Outcome.REVIEW,
            limit=limit,
            available=available,
            approved=ZERO,
            prepayment=ZERO,
            terms=terms.days,
            reasons=reasons,
        )
    # A risk class that pays up front, or a payment behaviour the policy sends to prepayment: all of it up front.
    high_risk = ctx.risk_class in policy.prepayment.full_prepayment_classes
    if high_risk:
        reasons.append(
            Reason(
                "HIGH_RISK_PREPAYMENT",
                f"Risk class {ctx.risk_class} pays every order up front.",
                "prepayment.full_prepayment_classes",
                {"risk_class": ctx.risk_class},
            )
        )
    if high_risk or action is Outcome.PREPAYMENT or new_credit == "prepayment":
        return _result(
            ctx,
            outcome=Outcome.PREPAYMENT,
            limit=limit,
            available=available,
            approved=ZERO,
            prepayment=order.amount,
            terms=0,
            reasons=reasons,
        )

    if order.amount <= available:
        reasons.append(
            Reason(
                "WITHIN_LIMIT",
                "The order fits within the available credit.",
                f"grid.{ctx.risk_class}.{ctx.segment}",
                {"amount": ctx.money(order.amount), "available_credit": ctx.money(available)},
            )
        )
        return _result(
            ctx,
            outcome=Outcome.ACCEPT,
            limit=limit,
            available=available,
            approved=order.amount,
            prepayment=ZERO,
            terms=terms.days,
            reasons=reasons,
        )

    minimum = quantize(order.amount * policy.prepayment.minimum_share, order.currency)
    prepayment = min(order.amount, max(order.amount - available, minimum))
    reasons.append(
        Reason(
            "EXCEEDS_AVAILABLE_CREDIT",
            "The order exceeds the available credit; the difference is paid up front.",
            "prepayment.minimum_share",
            {
                "amount": ctx.money(order.amount),
                "available_credit": ctx.money(available),
                "prepayment_amount": ctx.money(prepayment),
            },
        )
    )
    return _result(
        ctx,
        outcome=Outcome.PREPAYMENT,
        limit=limit,
        available=available,
        approved=order.amount - prepayment,
        prepayment=prepayment,
        terms=terms.days if prepayment < order.amount else 0,
        reasons=reasons,
    )


def _terms(ctx: _Context, cell: Cell) -> _Terms:
    """The cell's terms, or those the order asks for: shorter ones as asked, longer ones as `longer_terms` says.

    A review answers the asked terms, so a reviewer's accept grants them."""
    asked, segment_terms = ctx.order.payment_terms_days, cell.payment_terms_days
    if asked is None:
        return _Terms(segment_terms, False, None)
    if asked <= segment_terms:
        return _Terms(asked, False, None)
    rules = ctx.policy.longer_terms
    longest = segment_terms + rules.max_extra_days
    if asked <= longest:
        action, days, message = "granted", asked, "the policy grants them"
    elif rules.beyond == "cap":
        action, days, message = "capped", longest, "the longest terms the policy grants apply"
    else:
        action, days, message = "review", asked, "a credit manager decides on them"
    reason = Reason(
        "LONGER_TERMS_REQUESTED",
        f"The order asks for longer payment terms than its segment's; {message}.",
        "longer_terms",
        {
            "requested_days": asked,
            "segment_terms_days": segment_terms,
            "max_extra_days": rules.max_extra_days,
            "action": action,
        },
    )
    return _Terms(days, action == "review", reason)


def _credit_limit(ctx: _Context, cell: Cell, rates: Mapping[str, Decimal], reasons: list[Reason]) -> Decimal:
    policy, report, customer = ctx.policy, ctx.report, ctx.customer
    manual = customer.manual_limit
    fallback = policy.limits.expired_manual_limit
    if manual is not None and customer.manual_limit_expired_at is not None:
        reasons.append(
            Reason(
                "MANUAL_LIMIT_EXPIRED",
                "The manual limit has expired; the policy says what applies until it is reviewed.",
                "limits.expired_manual_limit",
                {
                    "manual_limit": ctx.money(
                        _convert(manual, customer.limit_currency or ctx.order.currency, ctx, rates)
                    ),
                    "expired_at": customer.manual_limit_expired_at,
                    "fallback": fallback,
                },
            )
        )
        if fallback == "policy":
            manual = None
    if manual is not None and customer.manual_limit_expired_at is not None and fallback == "zero":
        limit = ZERO
    elif manual is not None:
        limit = _convert(manual, customer.limit_currency or ctx.order.currency, ctx, rates)
        reasons.append(
            Reason(
                "MANUAL_LIMIT",
                "The customer's master data sets the credit limit by hand.",
                "customer.manual_limit",
                {"limit": ctx.money(limit), "reason": customer.manual_limit_reason},
            )
        )
    else:
        rule = cell.limit
        candidates: list[Decimal] = []
        if rule.share is not None and rule.rule != "fixed":
            recommended = ZERO
            if report.recommended_limit is not None:
                recommended = _convert(report.recommended_limit, report.limit_currency or policy.currency, ctx, rates)
            candidates.append(quantize(recommended * rule.share, ctx.order.currency))
        if rule.amount is not None and rule.rule != "share_of_recommended":
            candidates.append(_convert(rule.amount, policy.currency, ctx, rates))
        limit = min(candidates)
        if cell.cap is not None:
            limit = min(limit, _convert(cell.cap, policy.currency, ctx, rates))
        if policy.insurance is not None:
            limit = _insured_limit(ctx, limit, rates, reasons)
    if customer.uplift is not None:
        uplift = _convert(customer.uplift, customer.uplift_currency or ctx.order.currency, ctx, rates)
        reasons.append(
            Reason(
                "TEMPORARY_UPLIFT",
                "A temporary uplift raises the credit limit until it ends.",
                "customer.uplift",
                {"uplift": ctx.money(uplift), "limit": ctx.money(limit + uplift), "ends_at": customer.uplift_ends_at},
            )
        )
        limit += uplift
    cap = policy.new_customers.first_order_cap
    if customer.first_order and cap is not None:
        first_order_cap = _convert(cap, policy.currency, ctx, rates)
        if first_order_cap < limit:
            reasons.append(
                Reason(
                    "FIRST_ORDER_CAP",
                    "A customer's first order on credit is capped.",
                    "new_customers.first_order_cap",
                    {"first_order_cap": ctx.money(first_order_cap)},
                )
            )
            limit = first_order_cap
    return limit


def _insured_limit(ctx: _Context, grid_limit: Decimal, rates: Mapping[str, Decimal], reasons: list[Reason]) -> Decimal:
    """Under credit insurance: the insured part (the cover in force, else a discretionary limit when its
    conditions hold, else none) plus the seller's own part, the grid's limit but no more than its retention."""
    insurance, policy = ctx.policy.insurance, ctx.policy
    assert insurance is not None
    retention_amount = insurance.retention.get(ctx.segment)
    retention = ZERO if retention_amount is None else _convert(retention_amount, policy.currency, ctx, rates)
    own = min(grid_limit, retention)
    facts = {"retention": ctx.money(retention), "grid_limit": ctx.money(grid_limit), "own_share": ctx.money(own)}
    cover = ctx.cover
    if cover is not None:
        insured = _convert(cover.amount, cover.currency, ctx, rates)
        reasons.append(
            Reason(
                "COVER_LIMIT",
                "The credit insurer's cover and the seller's own retention set the limit.",
                f"insurance.retention.{ctx.segment}",
                {**facts, "cover": ctx.money(insured), "limit": ctx.money(insured + own), "insurer": cover.insurer},
            )
        )
        return insured + own
    discretionary = insurance.discretionary
    basis = _discretionary_basis(ctx) if discretionary is not None else None
    if discretionary is not None and basis is not None:
        amount = _convert(discretionary.amount, policy.currency, ctx, rates)
        trading = ctx.trading or TradingFacts()
        reasons.append(
            Reason(
                "DISCRETIONARY_LIMIT",
                "No named cover: the insurance policy's discretionary limit applies, its conditions being met.",
                "insurance.discretionary",
                {
                    **facts,
                    "discretionary": ctx.money(amount),
                    "basis": basis,
                    "trading_days": trading.trading_days,
                    "worst_days_late": trading.worst_days_late,
                    "limit": ctx.money(amount + own),
                },
            )
        )
        return amount + own
    reasons.append(
        Reason(
            "NO_COVER",
            "No credit insurance cover: the limit is the seller's own risk, within its retention.",
            f"insurance.retention.{ctx.segment}",
            {**facts, "limit": ctx.money(own)},
        )
    )
    return own


def _discretionary_basis(ctx: _Context) -> str | None:
    """Which of the discretionary limit's conditions holds: the trading history, else a recent report."""
    insurance = ctx.policy.insurance
    rules = insurance.discretionary if insurance is not None else None
    if rules is None:
        return None
    trading = ctx.trading
    days_late = max(trading.worst_days_late if trading is not None else 0, ctx.exposure.oldest_overdue_days)
    if (
        rules.min_trading_days is not None
        and trading is not None
        and trading.trading_days is not None
        and trading.trading_days >= rules.min_trading_days
        and days_late <= rules.max_days_late
    ):
        return "trading_history"
    if rules.with_recent_report and ctx.report.source in ("fresh", "cache") and ctx.risk_class in rules.report_classes:
        return "recent_report"
    return None


def _overdue_stop(ctx: _Context) -> Reason | None:
    # Without a rate nothing proves the overdue amount is tolerable: the check stops (app/policy/rules.py).
    # Invoices under a kept payment arrangement are left out of it (rules.arranged_overdue_check).
    stop, arranged = ctx.policy.stop, ctx.arranged
    check = arranged.check
    if not check.beyond:
        return None
    return Reason(
        "OVERDUE_INVOICES",
        "Invoices are overdue beyond the policy's tolerance; no delivery on credit.",
        "stop",
        {
            "overdue_days": arranged.oldest_overdue_days,
            "tolerance_days": stop.overdue_days_tolerance,
            "overdue_amount": ctx.money(arranged.overdue_amount),
            "tolerance_amount": None if check.tolerance_amount is None else ctx.money(check.tolerance_amount),
        },
    )


def _reason_kept(ctx: _Context, rates: Mapping[str, Decimal]) -> Reason:
    rules, facts = ctx.policy.arrangements, ctx.arrangements
    assert rules is not None
    assert facts is not None
    kept = facts.kept
    cap = None
    if rules.new_credit == "cap" and rules.new_credit_cap is not None:
        converted_cap = converted(rules.new_credit_cap, ctx.policy.currency, ctx.order.currency, rates)
        cap = None if converted_cap is None else ctx.money(converted_cap)
    return Reason(
        "PAYMENT_ARRANGEMENT_KEPT",
        "The customer keeps a payment arrangement: its invoices do not stop delivery on credit.",
        "arrangements",
        {
            "arrangement_ids": [a.arrangement_id for a in kept],
            "arranged_open_amount": ctx.money(sum((a.open_amount for a in kept), ZERO)),
            "arranged_overdue_amount": ctx.money(sum((a.overdue_amount for a in kept), ZERO)),
            "overdue_amount": ctx.money(facts.overdue_outside),
            "overdue_days": facts.oldest_overdue_days_outside,
            "stop_relieved": ctx.arranged.relieved,
            "new_credit": rules.new_credit,
            "new_credit_cap": cap,
        },
    )


def _broken_arrangements(ctx: _Context) -> tuple[Reason, Outcome] | None:
    """A broken arrangement whose invoices still owe something: the policy's `on_broken` outcome."""
    rules, facts = ctx.policy.arrangements, ctx.arrangements
    if rules is None or facts is None or rules.on_broken == "none" or not facts.broken_open:
        return None
    broken = facts.broken_open
    reason = Reason(
        "PAYMENT_ARRANGEMENT_BROKEN",
        "The customer broke a payment arrangement whose invoices are still open.",
        "arrangements.on_broken",
        {
            "arrangement_ids": [a.arrangement_id for a in broken],
            "broken_on": min(a.broken_on for a in broken if a.broken_on is not None).isoformat()
            if any(a.broken_on is not None for a in broken)
            else None,
            "open_amount": ctx.money(sum((a.open_amount for a in broken), ZERO)),
            "action": rules.on_broken,
        },
    )
    return reason, Outcome(rules.on_broken)


def _extension_stop(ctx: _Context) -> Reason | None:
    insurance = ctx.policy.insurance
    if insurance is None or not extension_stop(ctx.exposure.oldest_overdue_days, ctx.policy):
        return None
    return Reason(
        "INSURANCE_EXTENSION_EXCEEDED",
        "The oldest overdue invoice is past the insurance policy's maximum extension period; no delivery on credit.",
        "insurance.max_extension_days",
        {"overdue_days": ctx.exposure.oldest_overdue_days, "max_extension_days": insurance.max_extension_days},
    )


def _provider_unavailable(ctx: _Context, rates: Mapping[str, Decimal]) -> Evaluation:
    setting = ctx.policy.provider_unavailable
    reason = Reason(
        "PROVIDER_UNAVAILABLE",
        "No credit report could be had in time; the policy's fallback applies.",
        "provider_unavailable",
        {"action": setting.action, "provider": ctx.report.provider},
    )
    if setting.action != "accept_up_to" or setting.accept_up_to is None:
        return _fallback(ctx, Outcome(setting.action), reason)
    reasons = [reason]
    try:
        _require_priced(ctx)
        limit = _convert(setting.accept_up_to, ctx.policy.currency, ctx, rates)
        available = _group_cap(ctx, max(ZERO, limit - ctx.exposure.total), rates, reasons)
    except _MissingRate:
        return _fallback(ctx, Outcome.REVIEW, reason)
    if ctx.order.amount <= available:
        return _result(
            ctx,
            outcome=Outcome.ACCEPT,
            limit=limit,
            available=available,
            approved=ctx.order.amount,
            prepayment=ZERO,
            terms=0,
            reasons=reasons,
        )
    return _result(
        ctx,
        outcome=Outcome.REVIEW,
        limit=limit,
        available=available,
        approved=ZERO,
        prepayment=ZERO,
        terms=0,
        reasons=reasons,
    )


def _require_priced(ctx: _Context) -> None:
    """Exposure owed in a currency without a rate is incomplete: no credit is granted on it."""
    if ctx.exposure.unpriced_currencies:
        raise _MissingRate(ctx.exposure.unpriced_currencies[0])


def _group_cap(ctx: _Context, available: Decimal, rates: Mapping[str, Decimal], reasons: list[Reason]) -> Decimal:
    """A customer in a group with a limit gets no more than the group has left."""
    customer, exposure = ctx.customer, ctx.exposure
    if customer.group_limit is None or exposure.group_total is None:
        return available
    group_limit = _convert(customer.group_limit, customer.group_limit_currency or ctx.order.currency, ctx, rates)
    group_available = max(ZERO, group_limit - exposure.group_total)
    if group_available >= available:
        return available
    reasons.append(
        Reason(
            "GROUP_LIMIT",
            "The customer's group has less credit left than the customer; the group's available credit applies.",
            "customer.group_limit",
            {
                "group_id": customer.group_id,
                "group_limit": ctx.money(group_limit),
                "group_exposure": ctx.money(exposure.group_total),
                "group_available_credit": ctx.money(group_available),
            },
        )
    )
    return group_available


def _fallback(ctx: _Context, outcome: Outcome, reason: Reason, terms: int = 0) -> Evaluation:
    """An outcome that extends no credit: prepayment means the whole order up front."""
    return _without_credit(ctx, outcome, reason, terms=0 if outcome is Outcome.PREPAYMENT else terms, limit=ZERO)


def _without_credit(ctx: _Context, outcome: Outcome, reason: Reason, *, terms: int, limit: Decimal) -> Evaluation:
    prepayment = ctx.order.amount if outcome is Outcome.PREPAYMENT else ZERO
    return _result(
        ctx,
        outcome=outcome,
        limit=limit,
        available=ZERO,
        approved=ZERO,
        prepayment=prepayment,
        terms=terms,
        reasons=[reason],
    )


def _result(
    ctx: _Context,
    *,
    outcome: Outcome,
    limit: Decimal,
    available: Decimal,
    approved: Decimal,
    prepayment: Decimal,
    terms: int,
    reasons: list[Reason],
) -> Evaluation:
    return Evaluation(
        outcome=outcome,
        credit_limit=limit,
        exposure=ctx.exposure.total,
        available_credit=available,
        approved_credit_amount=approved,
        prepayment_amount=prepayment,
        payment_terms_days=terms,
        risk_class=ctx.risk_class,
        segment=ctx.segment,
        reasons=tuple(reasons),
    )


def _reason_insured(ctx: _Context, rates: Mapping[str, Decimal]) -> Reason | None:
    """How much of the exposure before this order the cover protects, and how much is the seller's own risk."""
    cover, exposure = ctx.cover, ctx.exposure
    if cover is None:
        return None
    amount = converted(cover.amount, cover.currency, ctx.order.currency, rates)
    split = insured_split(exposure.total, exposure.vat, amount, cover.coverage, cover.excludes_vat, ctx.order.currency)
    priced = amount is not None and not exposure.unpriced_currencies
    return Reason(
        "INSURED_EXPOSURE",
        "The credit insurer's cover protects part of the exposure; the rest is the seller's own risk.",
        "cover",
        {
            "insurer": cover.insurer,
            "reference": cover.reference,
            "cover": None if amount is None else ctx.money(amount),
            "coverage": str(cover.coverage),
            "excludes_vat": cover.excludes_vat,
            "vat": ctx.money(exposure.vat),
            "insured_exposure": ctx.money(split.insured) if priced else None,
            "uninsured_exposure": ctx.money(split.uninsured) if priced else None,
        },
    )


def _reason_blocked(customer: CustomerFacts) -> Reason:
    return Reason(
        "CUSTOMER_BLOCKED",
        "The customer is blocked for credit.",
        "customer.blocked",
        {"block_reason": customer.block_reason},
    )


def _reason_no_report(ctx: _Context, rates: Mapping[str, Decimal]) -> Reason:
    small = small_order(ctx.order.amount, ctx.order.currency, ctx.policy, rates)
    if small.threshold is None:
        raise _MissingRate(ctx.policy.currency)
    if small.below:
        return Reason(
            "SMALL_ORDER_NO_REPORT",
            "The order is below the small-order threshold; no report was bought.",
            "small_orders.threshold",
            {"threshold": ctx.money(small.threshold)},
        )
    return Reason(
        "NO_REGISTRATION_NUMBER",
        "Without a registration number no report can be had; the unrated limit applies.",
        "grid.unknown",
        {},
    )
