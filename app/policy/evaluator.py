"""The pure credit decision: (order, customer, report, exposure, policy, rates) → evaluation with reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from app.money import quantize
from app.policy.behaviour import BehaviourFigures, BehaviourScore, score
from app.policy.facts import (
    CustomerFacts,
    Evaluation,
    ExposureFacts,
    OrderFacts,
    Outcome,
    Reason,
    ReportFacts,
)
from app.policy.rules import converted, overdue_check, small_order
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
    behaviour: _Behaviour | None = None

    def money(self, amount: Decimal) -> str:
        return str(quantize(amount, self.order.currency))


@dataclass(frozen=True, slots=True)
class _Behaviour:
    """What the customer's payment behaviour does to this decision: a reason, and review or prepayment."""

    reason: Reason
    action: Outcome | None


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
) -> Evaluation:
    """Decide on one order. `rates` gives order-currency units per one unit of each other currency.

    `behaviour` (the customer's payment figures) counts only when the policy has a `behaviour` section."""
    segment = customer.segment if customer.segment in policy.segments else policy.default_segment
    bureau_class = _risk_class(report, policy)
    risk_class, assessed = _with_behaviour(bureau_class, report, policy, behaviour)
    ctx = _Context(order, customer, report, exposure, policy, segment, risk_class, assessed)

    if customer.blocked:
        return _without_credit(ctx, Outcome.REJECT, _reason_blocked(customer), terms=0, limit=ZERO)
    if risk_class == "insolvent":
        reason = Reason(
            "INSOLVENT",
            "The provider reports the company as insolvent.",
            "risk_class.insolvent",
            {"provider": report.provider, "reference": report.reference},
        )
        return _without_credit(ctx, Outcome.REJECT, reason, terms=0, limit=ZERO)
    evaluation = _before_stop_rules(ctx, rates)
    stop = _overdue_stop(ctx, rates)
    return evaluation if stop is None else _stopped(ctx, evaluation, stop)


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


def _stopped(ctx: _Context, evaluation: Evaluation, stop: Reason) -> Evaluation:
    """No delivery on credit; the stop never turns a review or reject into a better outcome."""
    outcome = Outcome(ctx.policy.stop.outcome)
    if evaluation.approved_credit_amount == ZERO and evaluation.outcome.rank <= outcome.rank:
        return replace(evaluation, reasons=(*evaluation.reasons, stop))
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
        reasons=[stop],
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
    result = score(figures, rules)
    if result.risk_class is None:
        return bureau_class, None
    risk_class = bureau_class
    if rules.combine == "worse_of" and bureau_class in RATED_CLASSES:
        risk_class = max(bureau_class, result.risk_class, key=RATED_CLASSES.index)
    # Review before prepayment, as the grid's review threshold comes before full prepayment: with both lists
    # closed towards the worse classes, a worse behaviour class never gets the better outcome.
    action = None
    if result.risk_class in rules.review_classes:
        action = Outcome.REVIEW
    elif result.risk_class in rules.prepayment_classes:
        action = Outcome.PREPAYMENT
    if risk_class == bureau_class and action is None:
        return bureau_class, None
    return risk_class, _Behaviour(_reason_behaviour(result, figures, bureau_class, risk_class, action), action)


def _reason_behaviour(
    result: BehaviourScore, figures: BehaviourFigures, bureau_class: str, risk_class: str, action: Outcome | None
) -> Reason:
    return Reason(
        "PAYMENT_BEHAVIOUR_DETERIORATED",
        f"The customer's own payment record scores class {result.risk_class}.",
        "behaviour",
        {
            "behaviour_class": result.risk_class,
            "points": result.points,
            "bureau_class": bureau_class,
            "risk_class": risk_class,
            "action": None if action is None else action.value,
            "as_of": figures.as_of.isoformat(),
            "figures": {name: None if f.value is None else str(f.value) for name, f in figures.figures.items()},
            "contributions": [c.as_dict() for c in result.contributions],
        },
    )


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
    limit = _credit_limit(ctx, cell, rates, reasons)
    available = _group_cap(ctx, max(ZERO, limit - exposure.total), rates, reasons)

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
    # Above the review threshold, or a payment behaviour the policy sends to review: a person decides.
    action = ctx.behaviour.action if ctx.behaviour is not None else None
    if above_review or action is Outcome.REVIEW:
        return _result(
            ctx,
            outcome=Outcome.REVIEW,
            limit=limit,
            available=available,
            approved=ZERO,
            prepayment=ZERO,
            terms=cell.payment_terms_days,
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
    if high_risk or action is Outcome.PREPAYMENT:
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
            terms=cell.payment_terms_days,
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
    terms = cell.payment_terms_days if prepayment < order.amount else 0
    return _result(
        ctx,
        outcome=Outcome.PREPAYMENT,
        limit=limit,
        available=available,
        approved=order.amount - prepayment,
        prepayment=prepayment,
        terms=terms,
        reasons=reasons,
    )


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


def _overdue_stop(ctx: _Context, rates: Mapping[str, Decimal]) -> Reason | None:
    stop, exposure = ctx.policy.stop, ctx.exposure
    # Without a rate nothing proves the overdue amount is tolerable: the check stops (app/policy/rules.py).
    check = overdue_check(exposure.overdue_amount, exposure.oldest_overdue_days, ctx.order.currency, ctx.policy, rates)
    if not check.beyond:
        return None
    return Reason(
        "OVERDUE_INVOICES",
        "Invoices are overdue beyond the policy's tolerance; no delivery on credit.",
        "stop",
        {
            "overdue_days": exposure.oldest_overdue_days,
            "tolerance_days": stop.overdue_days_tolerance,
            "overdue_amount": ctx.money(exposure.overdue_amount),
            "tolerance_amount": None if check.tolerance_amount is None else ctx.money(check.tolerance_amount),
        },
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
