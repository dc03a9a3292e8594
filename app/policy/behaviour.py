"""Payment behaviour from the seller's own ledger: figures from invoices and payments, and their score.

Pure: the decision service, the read API and the credit file hand in the rows they read; the evaluator scores
the stored figures against the policy's `behaviour` table, so a replay scores them again under another table.
Formulas, windows and minimum data: docs/behaviour.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from app.money import from_minor
from app.policy.rules import converted
from app.policy.schema import BEHAVIOUR_FIGURES, BehaviourRules

SHORT_WINDOW_DAYS = 90
LONG_WINDOW_DAYS = 365
GROWTH_WINDOW_DAYS = 30
ZERO = Decimal(0)
DAYS = Decimal("0.1")
SHARE = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    invoice_id: str
    currency: str
    amount_minor: int
    open_amount_minor: int
    issue_date: date
    due_date: date
    customer_id: str = ""  # invoice ids are the customer's own: a group's lines are told apart by it


@dataclass(frozen=True, slots=True)
class PaymentLine:
    payment_id: str
    invoice_id: str
    currency: str
    amount_minor: int
    paid_on: date
    customer_id: str = ""

    @property
    def invoice_key(self) -> tuple[str, str]:
        return (self.customer_id, self.invoice_id)


@dataclass(frozen=True, slots=True)
class TermsRequest:
    """A decided order that asked for longer payment terms than its cell's (reason `LONGER_TERMS_REQUESTED`)."""

    order_id: str
    decided_on: date


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure, the window it covers (days up to `as_of`) and how many invoices, payments and decisions it
    came from."""

    value: Decimal | None
    window_days: int
    invoices: int
    payments: int
    decisions: int = 0

    def to_json(self) -> dict[str, Any]:
        value = None if self.value is None else str(self.value)
        return {
            "value": value,
            "window_days": self.window_days,
            "invoices": self.invoices,
            "payments": self.payments,
            "decisions": self.decisions,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Figure:
        value = data.get("value")
        return cls(
            None if value is None else Decimal(value),
            data["window_days"],
            data["invoices"],
            data["payments"],
            data.get("decisions", 0),
        )


@dataclass(frozen=True, slots=True)
class BehaviourFigures:
    """The figures as of a day; amounts are in `currency` (overdue growth), the rest are days or shares."""

    as_of: date
    currency: str
    paid_invoices: int  # invoices with a payment in the last 12 months: the experience the score needs
    figures: Mapping[str, Figure]
    unpriced_currencies: tuple[str, ...] = ()  # left out: no rate converts them
    # The same figures over the customer's group (customers sharing a parent), when it is in one.
    group: GroupFigures | None = None

    def value(self, name: str) -> Decimal | None:
        return self.figures[name].value

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "paid_invoices": self.paid_invoices,
            "figures": {name: figure.to_json() for name, figure in self.figures.items()},
            "unpriced_currencies": list(self.unpriced_currencies),
            **({} if self.group is None else {"group": self.group.to_json()}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BehaviourFigures:
        group = data.get("group")
        figures = {name: Figure.from_json(figure) for name, figure in data["figures"].items()}
        # Figures stored before orders could ask for terms: none had asked, so the count was nought.
        figures.setdefault("longer_terms_requests", Figure(ZERO, SHORT_WINDOW_DAYS, 0, 0, 0))
        return cls(
            as_of=date.fromisoformat(data["as_of"]),
            currency=data["currency"],
            paid_invoices=data["paid_invoices"],
            figures=figures,
            unpriced_currencies=tuple(data.get("unpriced_currencies", ())),
            group=None if group is None else GroupFigures.from_json(group),
        )


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """The figures over every member of a group, as if one customer held all their invoices and payments."""

    group_id: str
    members: tuple[str, ...]
    figures: BehaviourFigures

    def to_json(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "members": list(self.members), **self.figures.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GroupFigures:
        return cls(data["group_id"], tuple(data["members"]), BehaviourFigures.from_json(data))


def weighted_days_beyond_terms(payments: Iterable[tuple[Decimal, date, date]]) -> Decimal | None:
    """(weight, paid_on, due_date) → days beyond terms weighted by amount, to 0.1 day; None without payments.

    The one formula of DBT: the credit file's figure and the behaviour figures both come from here."""
    weighted = ZERO
    total = ZERO
    for weight, paid_on, due_date in payments:
        weighted += weight * max(0, (paid_on - due_date).days)
        total += weight
    if total == 0:
        return None
    return (weighted / total).quantize(DAYS)


def compute_figures(
    invoices: Iterable[InvoiceLine],
    payments: Iterable[PaymentLine],
    *,
    as_of: date,
    currency: str,
    rates: Mapping[str, Decimal],
    terms_requests: Iterable[TermsRequest] = (),
) -> BehaviourFigures:
    """The figures from a customer's invoices and payments (and its decided requests for longer terms); the
    order they come in does not matter.

    `rates` are units of `currency` per one unit of each other currency; lines in a currency without a rate
    are left out and named in `unpriced_currencies`."""
    unpriced: set[str] = set()

    def amount(minor: int, of: str) -> Decimal | None:
        value = converted(from_minor(minor, of), of, currency, rates)
        if value is None:
            unpriced.add(of)
        return value

    by_id = {(line.customer_id, line.invoice_id): line for line in invoices}
    all_payments = [p for p in payments if p.invoice_key in by_id]
    long_start = as_of - timedelta(days=LONG_WINDOW_DAYS)
    short_start = as_of - timedelta(days=SHORT_WINDOW_DAYS)
    paid = [p for p in all_payments if long_start <= p.paid_on <= as_of]
    priced = [(p, a) for p in paid if (a := amount(p.amount_minor, p.currency)) is not None]
    short = [(p, a) for p, a in priced if p.paid_on >= short_start]

    def dbt(lines: list[tuple[PaymentLine, Decimal]], window: int) -> Figure:
        value = weighted_days_beyond_terms((a, p.paid_on, by_id[p.invoice_key].due_date) for p, a in lines)
        return Figure(value, window, len({p.invoice_key for p, _ in lines}), len(lines))

    total = sum((a for _, a in priced), ZERO)
    late = sum((a for p, a in priced if p.paid_on > by_id[p.invoice_key].due_date), ZERO)
    late_share = None if total == 0 else (late / total).quantize(SHARE)

    payments_of: dict[tuple[str, str], list[PaymentLine]] = {}
    for p in paid:
        payments_of.setdefault(p.invoice_key, []).append(p)
    partial = sum(1 for i, ps in payments_of.items() if len(ps) > 1 or by_id[i].open_amount_minor > 0)
    partial_rate = None if not payments_of else (Decimal(partial) / len(payments_of)).quantize(SHARE)

    growth_start = as_of - timedelta(days=GROWTH_WINDOW_DAYS)
    every_payment_of: dict[tuple[str, str], list[PaymentLine]] = {}
    for p in all_payments:
        every_payment_of.setdefault(p.invoice_key, []).append(p)
    now_overdue, then_overdue, counted = ZERO, ZERO, set()
    for key, line in by_id.items():
        for day, is_now in ((as_of, True), (growth_start, False)):
            if not (line.due_date < day and line.issue_date <= day):
                continue
            later = sum(p.amount_minor for p in every_payment_of.get(key, ()) if p.paid_on > day)
            open_minor = min(line.amount_minor, line.open_amount_minor + later)
            if open_minor <= 0:
                continue
            value = amount(open_minor, line.currency)
            if value is None:
                continue
            counted.add(key)
            if is_now:
                now_overdue += value
            else:
                then_overdue += value
    growth = Figure(
        now_overdue - then_overdue,
        GROWTH_WINDOW_DAYS,
        len(counted),
        sum(1 for p in all_payments if p.invoice_key in counted and growth_start < p.paid_on <= as_of),
    )

    last = max((p.paid_on for p in paid), default=None)
    since_last = Figure(
        None if last is None else Decimal((as_of - last).days), LONG_WINDOW_DAYS, len(payments_of), len(paid)
    )
    figures = {
        "dbt_90_days": dbt(short, SHORT_WINDOW_DAYS),
        "dbt_12_months": dbt(priced, LONG_WINDOW_DAYS),
        "late_share": Figure(late_share, LONG_WINDOW_DAYS, len({p.invoice_key for p, _ in priced}), len(priced)),
        "partial_payment_rate": Figure(partial_rate, LONG_WINDOW_DAYS, len(payments_of), len(paid)),
        "overdue_growth_30_days": growth,
        "days_since_last_payment": since_last,
        "longer_terms_requests": _longer_terms_requests(terms_requests, as_of),
    }
    return BehaviourFigures(as_of, currency, len(payments_of), figures, tuple(sorted(unpriced)))


def _longer_terms_requests(requests: Iterable[TermsRequest], as_of: date) -> Figure:
    """Orders that asked for longer terms in the window: an order decided again counts once."""
    start = as_of - timedelta(days=SHORT_WINDOW_DAYS)
    within = [r for r in requests if start <= r.decided_on <= as_of]
    orders = {r.order_id for r in within}
    return Figure(Decimal(len(orders)), SHORT_WINDOW_DAYS, 0, 0, len(within))


@dataclass(frozen=True, slots=True)
class Contribution:
    figure: str
    value: Decimal | None
    points: int

    def as_dict(self) -> dict[str, Any]:
        return {"figure": self.figure, "value": None if self.value is None else str(self.value), "points": self.points}


@dataclass(frozen=True, slots=True)
class BehaviourScore:
    """The score of the figures under a table: no points and no class below the minimum experience."""

    points: int | None
    risk_class: str | None
    contributions: tuple[Contribution, ...]
    paid_invoices: int
    minimum_paid_invoices: int

    @property
    def scored(self) -> bool:
        return self.risk_class is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "class": self.risk_class,
            "paid_invoices": self.paid_invoices,
            "minimum_paid_invoices": self.minimum_paid_invoices,
            "contributions": [c.as_dict() for c in self.contributions],
        }


def score(figures: BehaviourFigures, rules: BehaviourRules) -> BehaviourScore:
    if figures.paid_invoices < rules.minimum_paid_invoices:
        return BehaviourScore(None, None, (), figures.paid_invoices, rules.minimum_paid_invoices)
    contributions = tuple(
        Contribution(name, figures.value(name), group.points_for(figures.value(name)))
        for name, group in sorted(rules.points.items(), key=lambda item: BEHAVIOUR_FIGURES.index(item[0]))
        if name in figures.figures
    )
    points = sum(c.points for c in contributions)
    return BehaviourScore(
        points, rules.classes.classify(points), contributions, figures.paid_invoices, rules.minimum_paid_invoices
    )
