"""What-if replay: stored decisions re-evaluated under a candidate policy, streamed in keyset chunks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.db import Database
from app.decisions.query import Cursor
from app.money import from_minor, quantize
from app.policy.evaluator import evaluate_inputs
from app.policy.facts import DecisionInputs, Evaluation, OrderFacts
from app.policy.schema import PolicyDocument
from app.policy_versions import repository
from app.policy_versions.query import ReplayFilters
from app.policy_versions.schemas import (
    ChangedDecision,
    ChangedPage,
    CreditExtended,
    ReplayedResult,
    ReplayResult,
    SimulationOut,
    Transition,
)

CHUNK_SIZE = 400
SLICE = 100


def replay_decision(row: Any, policy: PolicyDocument) -> Evaluation:
    """The stored decision's order and inputs, as they were when it was taken, through `policy`."""
    order_in = row.request["order"]
    order = OrderFacts(
        order_in["id"], Decimal(order_in["amount"]), order_in["currency"], order_in.get("payment_terms_days")
    )
    inputs = DecisionInputs.from_json(row.inputs)
    return evaluate_inputs(order, inputs, policy)


def _money(amount: Decimal, currency: str) -> str:
    return str(quantize(amount, currency))


@dataclass
class ReplayTally:
    """Totals over every replayed decision, and one page of the changed ones (no I/O)."""

    policy: PolicyDocument
    page_size: int = 50
    after: Cursor | None = None
    replayed: int = 0
    changed: int = 0
    counts: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    amounts: dict[tuple[str, str], dict[str, Decimal]] = field(default_factory=dict)
    credit_before: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    credit_after: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    page: list[ChangedDecision] = field(default_factory=list)
    more: bool = False

    def add_chunk(self, rows: Sequence[Any]) -> None:
        for row in rows:
            self.add(row)

    def add(self, row: Any) -> None:
        currency = row.currency
        evaluation = replay_decision(row, self.policy)
        old_approved = from_minor(row.approved_credit_minor, currency)
        old_prepayment = from_minor(row.prepayment_minor, currency)
        new_outcome = evaluation.outcome.value
        transition = (row.outcome, new_outcome)
        amount = from_minor(row.amount_minor, currency)
        self.replayed += 1
        self.counts[transition] += 1
        by_currency = self.amounts.setdefault(transition, defaultdict(Decimal))
        by_currency[currency] += amount
        self.credit_before[currency] += old_approved
        self.credit_after[currency] += evaluation.approved_credit_amount
        if (
            row.outcome == new_outcome
            and old_approved == evaluation.approved_credit_amount
            and old_prepayment == evaluation.prepayment_amount
            and row.payment_terms_days == evaluation.payment_terms_days
        ):
            return
        self.changed += 1
        if self.after is not None and (row.decided_at, row.id) >= (self.after.decided_at, self.after.id):
            return
        if len(self.page) >= self.page_size:
            self.more = True
            return
        self.page.append(_changed(row, amount, old_approved, old_prepayment, evaluation))

    def result(self) -> SimulationOut:
        transitions = [
            Transition(
                old_outcome=old,
                new_outcome=new,
                count=count,
                amount={
                    currency: _money(total, currency) for currency, total in sorted(self.amounts[old, new].items())
                },
            )
            for (old, new), count in sorted(self.counts.items())
        ]
        credit = [
            CreditExtended(
                currency=currency,
                before=_money(self.credit_before[currency], currency),
                after=_money(self.credit_after[currency], currency),
                change=_money(self.credit_after[currency] - self.credit_before[currency], currency),
            )
            for currency in sorted(self.credit_before)
        ]
        next_cursor = None
        if self.more and self.page:
            last = self.page[-1]
            next_cursor = Cursor(last.decided_at, last.decision_id).encode()
        return SimulationOut(
            policy_version=self.policy.version,
            replayed=self.replayed,
            changed=self.changed,
            transitions=transitions,
            credit_extended=credit,
            changed_decisions=ChangedPage(items=self.page, next_cursor=next_cursor),
        )


def _changed(
    row: Any, amount: Decimal, old_approved: Decimal, old_prepayment: Decimal, evaluation: Evaluation
) -> ChangedDecision:
    currency = row.currency
    return ChangedDecision(
        decision_id=row.id,
        order_id=row.order_id,
        customer_id=row.customer_id,
        decided_at=row.decided_at,
        amount=_money(amount, currency),
        currency=currency,
        policy_version=row.policy_version,
        old=ReplayResult(
            outcome=row.outcome,
            approved_credit_amount=_money(old_approved, currency),
            prepayment_amount=_money(old_prepayment, currency),
            payment_terms_days=row.payment_terms_days,
        ),
        new=ReplayedResult(
            outcome=evaluation.outcome.value,
            approved_credit_amount=_money(evaluation.approved_credit_amount, currency),
            prepayment_amount=_money(evaluation.prepayment_amount, currency),
            payment_terms_days=evaluation.payment_terms_days,
            reasons=[reason.as_dict() for reason in evaluation.reasons],
        ),
    )


async def replay(
    database: Database,
    tally: ReplayTally,
    filters: ReplayFilters,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> SimulationOut:
    """Stream the matching decisions newest first, one short read per chunk on the heavy reads' own pool; never
    writes, never asks a provider."""
    position: Cursor | None = None
    while True:
        async with database.heavy_reads.paced(), database.heavy_reads.read() as session:
            rows = await repository.decisions_chunk(session, filters, position, chunk_size)
        if not rows:
            break
        # The evaluator is CPU work: hand the event loop back after every slice (a few ms), for twice as long, so
        # other requests are answered meanwhile. (A worker thread would cost a third more in GIL hand-offs.)
        for start in range(0, len(rows), SLICE):
            async with database.heavy_reads.paced():
                tally.add_chunk(rows[start : start + SLICE])
        if progress is not None:
            progress(len(rows))
        if len(rows) < chunk_size:
            break
        last: datetime = rows[-1].decided_at
        position = Cursor(last, rows[-1].id)
    return tally.result()
