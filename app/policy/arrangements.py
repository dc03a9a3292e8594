"""Payment arrangements judged against payments: kept, broken or fulfilled; and the facts a decision reads.

Pure: the arrangement service, the decision service and the credit file hand in the instalments and the
payments they read. Rules and their effect on decisions: docs/behaviour.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

ArrangementStatus = Literal["kept", "broken", "fulfilled"]


@dataclass(frozen=True, slots=True)
class Instalment:
    due_date: date
    amount_minor: int


@dataclass(frozen=True, slots=True)
class ArrangedPayment:
    """A payment on one of the arrangement's invoices."""

    amount_minor: int
    paid_on: date


@dataclass(frozen=True, slots=True)
class ArrangementState:
    """Where an arrangement stands on `as_of`."""

    status: ArrangementStatus
    paid_minor: int  # paid towards it from the day it was agreed up to `as_of`
    total_minor: int
    due_minor: int  # what had to be paid by now: every instalment whose grace has ended
    broken_on: date | None  # the first day after the grace of the first instalment not paid in time
    missed_instalment: int | None  # that instalment's number, from 1
    next_due_date: date | None  # the next instalment not yet due (kept arrangements)


def arrangement_state(
    instalments: Iterable[Instalment],
    payments: Iterable[ArrangedPayment],
    *,
    agreed_on: date,
    as_of: date,
    grace_days: int,
) -> ArrangementState:
    """Instalments are cumulative: by each due date plus the grace, everything due by then must be paid.

    Only payments dated from `agreed_on` to `as_of` count, so the order they arrive in does not matter."""
    plan = sorted(instalments, key=lambda instalment: instalment.due_date)
    counted = [p for p in payments if agreed_on <= p.paid_on <= as_of]
    paid = sum(p.amount_minor for p in counted)
    total = sum(instalment.amount_minor for instalment in plan)
    required = 0
    due = 0
    next_due = None
    for number, instalment in enumerate(plan, start=1):
        required += instalment.amount_minor
        deadline = instalment.due_date + timedelta(days=grace_days)
        if deadline >= as_of:
            if next_due is None and paid < required:
                next_due = instalment.due_date
            continue
        due = required
        paid_in_time = sum(p.amount_minor for p in counted if p.paid_on <= deadline)
        if paid_in_time < required:
            return ArrangementState("broken", paid, total, due, deadline + timedelta(days=1), number, None)
    if paid >= total:
        return ArrangementState("fulfilled", paid, total, due, None, None, None)
    return ArrangementState("kept", paid, total, due, None, None, next_due)


@dataclass(frozen=True, slots=True)
class ArrangementFact:
    """One kept or broken arrangement as a decision sees it; amounts in the order's currency."""

    arrangement_id: str
    status: ArrangementStatus
    invoice_ids: tuple[str, ...]
    open_amount: Decimal  # what its invoices still owe
    overdue_amount: Decimal  # of that, past the invoices' due dates
    broken_on: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "arrangement_id": self.arrangement_id,
            "status": self.status,
            "invoice_ids": list(self.invoice_ids),
            "open_amount": str(self.open_amount),
            "overdue_amount": str(self.overdue_amount),
            "broken_on": None if self.broken_on is None else self.broken_on.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArrangementFact:
        broken_on = data.get("broken_on")
        return cls(
            data["arrangement_id"],
            data["status"],
            tuple(data["invoice_ids"]),
            Decimal(data["open_amount"]),
            Decimal(data["overdue_amount"]),
            None if broken_on is None else date.fromisoformat(broken_on),
        )


@dataclass(frozen=True, slots=True)
class ArrangementFacts:
    """The customer's arrangements that bear on a decision, and its overdue figures outside the kept ones."""

    arrangements: tuple[ArrangementFact, ...]
    overdue_outside: Decimal  # overdue on invoices under no kept arrangement, in the order's currency
    oldest_overdue_days_outside: int

    @property
    def kept(self) -> tuple[ArrangementFact, ...]:
        return tuple(a for a in self.arrangements if a.status == "kept")

    @property
    def broken_open(self) -> tuple[ArrangementFact, ...]:
        """Broken arrangements whose invoices still owe something: these count against the customer."""
        return tuple(a for a in self.arrangements if a.status == "broken" and a.open_amount > 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "arrangements": [a.to_json() for a in self.arrangements],
            "overdue_outside": str(self.overdue_outside),
            "oldest_overdue_days_outside": self.oldest_overdue_days_outside,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArrangementFacts:
        return cls(
            tuple(ArrangementFact.from_json(a) for a in data["arrangements"]),
            Decimal(data["overdue_outside"]),
            data["oldest_overdue_days_outside"],
        )
