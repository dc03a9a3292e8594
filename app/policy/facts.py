"""What the evaluator reads and what it answers: plain immutable values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from app.policy.arrangements import ArrangementFacts
from app.policy.behaviour import BehaviourFigures

# Best to worst. "insolvent" is worse than any class; "unknown" means no usable rating.
RISK_ORDER: tuple[str, ...] = ("A", "B", "C", "D", "E", "insolvent")

ReportSource = Literal["fresh", "cache", "stale", "none", "unavailable", "not_found"]


class Outcome(StrEnum):
    ACCEPT = "accept"
    PREPAYMENT = "prepayment"
    REVIEW = "review"
    REJECT = "reject"

    @property
    def rank(self) -> int:
        """Higher is better for the customer: accept > prepayment > review > reject."""
        return _OUTCOME_RANK[self]


_OUTCOME_RANK = {Outcome.ACCEPT: 3, Outcome.PREPAYMENT: 2, Outcome.REVIEW: 1, Outcome.REJECT: 0}


@dataclass(frozen=True, slots=True)
class OrderFacts:
    order_id: str
    amount: Decimal
    currency: str
    payment_terms_days: int | None = None  # the terms the order asks for; None: the cell's


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    customer_id: str
    segment: str | None = None
    blocked: bool = False
    block_reason: str | None = None
    manual_limit: Decimal | None = None  # in limit_currency
    manual_limit_reason: str | None = None
    # Set when manual_limit is past its expiry (RFC 3339): the policy's limits.expired_manual_limit says what applies.
    manual_limit_expired_at: str | None = None
    first_order: bool = False
    limit_currency: str | None = None  # of manual_limit; None means the order's currency
    # The group (customers sharing a parent) and its limit, in group_limit_currency (None: the order's).
    group_id: str | None = None
    group_limit: Decimal | None = None
    group_limit_currency: str | None = None
    # A temporary uplift on top of the standing limit, in uplift_currency, in force at the decision's time.
    uplift: Decimal | None = None
    uplift_currency: str | None = None
    uplift_ends_at: str | None = None  # RFC 3339, for the reason's facts


@dataclass(frozen=True, slots=True)
class ReportFacts:
    source: ReportSource
    risk_class: str | None = None  # A–E, "insolvent", or None when unrated
    score: int | None = None
    recommended_limit: Decimal | None = None
    limit_currency: str | None = None
    provider: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class ExposureFacts:
    """What the customer owes and has reserved, in the order's currency, before this order."""

    open_receivables: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)
    overdue_amount: Decimal = Decimal(0)
    oldest_overdue_days: int = 0
    group_total: Decimal | None = None  # the whole group's exposure, when the customer's group has a limit
    unpriced_currencies: tuple[str, ...] = ()  # currencies owed in that no known rate converts
    vat: Decimal = Decimal(0)  # the VAT within the total (invoices and orders that state it)

    @property
    def total(self) -> Decimal:
        return self.open_receivables + self.reserved


@dataclass(frozen=True, slots=True)
class CoverFacts:
    """A credit insurer's cover in force on the customer when the decision was taken."""

    amount: Decimal  # the insured amount, in `currency`
    currency: str
    coverage: Decimal  # the share of a loss the insurer pays, above 0 and at most 1
    excludes_vat: bool = False
    insurer: str | None = None
    reference: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "amount": str(self.amount),
            "currency": self.currency,
            "coverage": str(self.coverage),
            "excludes_vat": self.excludes_vat,
            "insurer": self.insurer,
            "reference": self.reference,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CoverFacts:
        return cls(
            amount=Decimal(data["amount"]),
            currency=data["currency"],
            coverage=Decimal(data["coverage"]),
            excludes_vat=data.get("excludes_vat", False),
            insurer=data.get("insurer"),
            reference=data.get("reference"),
        )


@dataclass(frozen=True, slots=True)
class TradingFacts:
    """The customer's trading history with the seller: what an insurance policy's discretionary limit asks."""

    trading_days: int | None = None  # days since its first invoice; None: never invoiced
    worst_days_late: int = 0  # the most days past its due date an invoice was paid in the last 12 months

    def to_json(self) -> dict[str, Any]:
        return {"trading_days": self.trading_days, "worst_days_late": self.worst_days_late}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TradingFacts:
        return cls(trading_days=data.get("trading_days"), worst_days_late=data.get("worst_days_late", 0))


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    rule: str
    facts: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "rule": self.rule, "facts": dict(self.facts)}


# Every code the evaluator gives (a test reads them off app/policy/evaluator.py): the history refuses a filter
# on any other, which could only ever match nothing.
REASON_CODES = frozenset(
    {
        "ABOVE_REVIEW_THRESHOLD",
        "COMPANY_NOT_FOUND",
        "COVER_LIMIT",
        "CUSTOMER_BLOCKED",
        "DISCRETIONARY_LIMIT",
        "EXCEEDS_AVAILABLE_CREDIT",
        "FIRST_ORDER_CAP",
        "FX_RATE_UNAVAILABLE",
        "GROUP_LIMIT",
        "HIGH_RISK_PREPAYMENT",
        "INSURED_EXPOSURE",
        "INSOLVENT",
        "LONGER_TERMS_REQUESTED",
        "INSURANCE_EXTENSION_EXCEEDED",
        "MANUAL_LIMIT",
        "NO_COVER",
        "MANUAL_LIMIT_EXPIRED",
        "NO_REGISTRATION_NUMBER",
        "OVERDUE_INVOICES",
        "PAYMENT_ARRANGEMENT_BROKEN",
        "PAYMENT_ARRANGEMENT_KEPT",
        "PAYMENT_BEHAVIOUR_DETERIORATED",
        "PROVIDER_UNAVAILABLE",
        "SMALL_ORDER_NO_REPORT",
        "STALE_REPORT",
        "TEMPORARY_UPLIFT",
        "WITHIN_LIMIT",
    }
)


NextStep = Literal[
    "request_limit_increase",
    "request_limit_review",
    "pay_overdue_invoices",
    "provide_registration_number",
    "retry_later",
    "await_review",
]
# What a caller (a checkout, an ERP) can offer its user when a decision carries the reason: additive to the code.
NEXT_STEPS: Mapping[str, NextStep] = {
    "EXCEEDS_AVAILABLE_CREDIT": "request_limit_increase",
    "GROUP_LIMIT": "request_limit_increase",
    "MANUAL_LIMIT_EXPIRED": "request_limit_review",
    "OVERDUE_INVOICES": "pay_overdue_invoices",
    "NO_REGISTRATION_NUMBER": "provide_registration_number",
    "PROVIDER_UNAVAILABLE": "retry_later",
    "ABOVE_REVIEW_THRESHOLD": "await_review",
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    outcome: Outcome
    credit_limit: Decimal
    exposure: Decimal
    available_credit: Decimal
    approved_credit_amount: Decimal
    prepayment_amount: Decimal
    payment_terms_days: int
    risk_class: str
    segment: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class DecisionInputs:
    """What the evaluator read besides the order and the policy, stored so a decision can be replayed."""

    customer: CustomerFacts
    report: ReportFacts
    exposure: ExposureFacts
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    # The customer's payment-behaviour figures, computed only when the policy has a `behaviour` section.
    behaviour: BehaviourFigures | None = None
    # The customer's kept and broken payment arrangements, read only when the policy has `arrangements`.
    arrangements: ArrangementFacts | None = None
    cover: CoverFacts | None = None  # the credit insurer's cover in force, if any
    # The trading history, read only when the policy's insurance section has a discretionary limit.
    trading: TradingFacts | None = None

    def to_json(self) -> dict[str, Any]:
        c, r, e = self.customer, self.report, self.exposure
        data: dict[str, Any] = {
            "customer": {
                "customer_id": c.customer_id,
                "segment": c.segment,
                "blocked": c.blocked,
                "block_reason": c.block_reason,
                "manual_limit": _text(c.manual_limit),
                "manual_limit_reason": c.manual_limit_reason,
                "first_order": c.first_order,
                "limit_currency": c.limit_currency,
                "group_id": c.group_id,
                "group_limit": _text(c.group_limit),
                "group_limit_currency": c.group_limit_currency,
            },
            "report": {
                "source": r.source,
                "risk_class": r.risk_class,
                "score": r.score,
                "recommended_limit": _text(r.recommended_limit),
                "limit_currency": r.limit_currency,
                "provider": r.provider,
                "reference": r.reference,
            },
            "exposure": {
                "open_receivables": str(e.open_receivables),
                "reserved": str(e.reserved),
                "overdue_amount": str(e.overdue_amount),
                "oldest_overdue_days": e.oldest_overdue_days,
                "group_total": _text(e.group_total),
                "unpriced_currencies": list(e.unpriced_currencies),
                "vat": str(e.vat),
            },
            "rates": {currency: str(rate) for currency, rate in self.rates.items()},
        }
        if c.manual_limit_expired_at is not None:  # stored only for an expired manual limit
            data["customer"]["manual_limit_expired_at"] = c.manual_limit_expired_at
        if c.uplift is not None:  # decisions without an uplift in force store no such keys
            data["customer"] |= {
                "uplift": str(c.uplift),
                "uplift_currency": c.uplift_currency,
                "uplift_ends_at": c.uplift_ends_at,
            }
        if self.behaviour is not None:  # decisions under a policy without `behaviour` store no such key
            data["behaviour"] = self.behaviour.to_json()
        if self.arrangements is not None:  # nor, without arrangements to weigh, an `arrangements` key
            data["arrangements"] = self.arrangements.to_json()
        if self.cover is not None:  # decisions without a cover (and all before covers) store no such key
            data["cover"] = self.cover.to_json()
        if self.trading is not None:
            data["trading"] = self.trading.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DecisionInputs:
        c, r, e = data["customer"], data["report"], data["exposure"]
        return cls(
            customer=CustomerFacts(
                customer_id=c["customer_id"],
                segment=c["segment"],
                blocked=c["blocked"],
                block_reason=c["block_reason"],
                manual_limit=_decimal(c["manual_limit"]),
                manual_limit_reason=c["manual_limit_reason"],
                manual_limit_expired_at=c.get("manual_limit_expired_at"),
                first_order=c["first_order"],
                limit_currency=c.get("limit_currency"),
                group_id=c.get("group_id"),
                group_limit=_decimal(c.get("group_limit")),
                group_limit_currency=c.get("group_limit_currency"),
                uplift=_decimal(c.get("uplift")),
                uplift_currency=c.get("uplift_currency"),
                uplift_ends_at=c.get("uplift_ends_at"),
            ),
            report=ReportFacts(
                source=r["source"],
                risk_class=r["risk_class"],
                score=r["score"],
                recommended_limit=_decimal(r["recommended_limit"]),
                limit_currency=r["limit_currency"],
                provider=r["provider"],
                reference=r["reference"],
            ),
            exposure=ExposureFacts(
                open_receivables=Decimal(e["open_receivables"]),
                reserved=Decimal(e["reserved"]),
                overdue_amount=Decimal(e["overdue_amount"]),
                oldest_overdue_days=e["oldest_overdue_days"],
                group_total=_decimal(e.get("group_total")),
                unpriced_currencies=tuple(e.get("unpriced_currencies", ())),
                vat=Decimal(e.get("vat", "0")),
            ),
            rates={currency: Decimal(rate) for currency, rate in data.get("rates", {}).items()},
            behaviour=BehaviourFigures.from_json(b) if (b := data.get("behaviour")) is not None else None,
            arrangements=ArrangementFacts.from_json(a) if (a := data.get("arrangements")) is not None else None,
            cover=CoverFacts.from_json(cover) if (cover := data.get("cover")) is not None else None,
            trading=TradingFacts.from_json(trading) if (trading := data.get("trading")) is not None else None,
        )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
