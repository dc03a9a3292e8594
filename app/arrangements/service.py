"""Recording, reading and cancelling payment arrangements, and judging them whenever the ledger moves.

Each change of an arrangement's status (created, kept, broken, fulfilled, cancelled) is an audit event in the
transaction that makes it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.active_policy import ActivePolicy
from app.arrangements import repository
from app.arrangements.evaluation import ArrangementLines, Judged, arrangement_facts, judge, lines_from_rows
from app.arrangements.models import PaymentArrangement
from app.arrangements.schemas import (
    ArrangedInvoiceOut,
    ArrangementIn,
    ArrangementOut,
    ArrangementsOut,
    CancelIn,
    InstalmentOut,
)
from app.audit.service import EventType, NewEvent, append_many
from app.customers import repository as customers
from app.customers.rates import RateTable
from app.db import Database, WriteSession, utcnow
from app.errors import Conflict, FieldError, InvalidRequest, NotFound
from app.idempotency.service import Recorder, StoredResponse
from app.money import format_minor, to_minor
from app.policy.arrangements import ArrangementFacts
from app.policy.schema import PolicyDocument

# How far ahead an instalment may fall: three years and a day covers any plan a credit manager agrees to.
MAX_PLAN_DAYS = 3 * 366


@dataclass(frozen=True, slots=True)
class Transition:
    """An arrangement whose status moved when it was judged again."""

    arrangement_id: str
    customer_id: str
    before: str
    after: str
    broken_on: date | None


# Called in the transaction that changed arrangements (the early-warning signals listen).
ChangeHook = Callable[[WriteSession, Sequence[str]], Awaitable[Any]]


class ArrangementNotOpen(Conflict):
    code, title = "arrangement_not_open", "The arrangement is already fulfilled or cancelled"


def grace_days(policy: PolicyDocument) -> int:
    """The policy's grace; without an `arrangements` section an instalment is due on its day."""
    return policy.arrangements.grace_days if policy.arrangements is not None else 0


class ArrangementService:
    def __init__(self, database: Database, active_policy: ActivePolicy) -> None:
        self.database = database
        self.active_policy = active_policy
        self.hooks: list[ChangeHook] = []

    def on_change(self, hook: ChangeHook) -> None:
        self.hooks.append(hook)

    async def create(self, customer_id: str, body: ArrangementIn, actor: str, recorder: Recorder) -> StoredResponse:
        now = utcnow()
        today = now.date()
        _check_body(body, today)
        async with self.database.transaction() as session:
            policy = await self.active_policy(session)
            # The customer's row serialises arrangements for its invoices (and its decisions) on every replica.
            if await customers.get_customer(session, customer_id, lock=True) is None:
                raise NotFound(f"no customer {customer_id}")
            invoices = await repository.invoices_of(session, customer_id, body.invoice_ids)
            paid_today = await repository.payments_from(session, customer_id, list(invoices), today)
            errors: list[FieldError] = []
            currency = None
            owed = 0
            agreed: dict[str, int] = {}
            for index, invoice_id in enumerate(body.invoice_ids):
                field = f"invoice_ids[{index}]"
                invoice = invoices.get(invoice_id)
                if invoice is None:
                    errors.append(FieldError(field=field, message=f"no invoice {invoice_id} of customer {customer_id}"))
                    continue
                open_agreed = invoice.open_amount_minor + paid_today.get(invoice_id, 0)
                if open_agreed <= 0:
                    errors.append(FieldError(field=field, message=f"invoice {invoice_id} has nothing open"))
                currency = currency or invoice.currency
                if invoice.currency != currency:
                    message = f"invoice {invoice_id} is in {invoice.currency}, the first one in {currency}"
                    errors.append(FieldError(field=field, message=message))
                agreed[invoice_id] = open_agreed
                owed += open_agreed
            taken = await repository.invoices_under_open(session, customer_id, list(invoices))
            for index, invoice_id in enumerate(body.invoice_ids):
                if invoice_id in taken:
                    message = f"invoice {invoice_id} is under arrangement {taken[invoice_id]} already"
                    errors.append(FieldError(field=f"invoice_ids[{index}]", message=message))
            if errors or currency is None:
                raise Conflict(
                    errors[0].message if len(errors) == 1 else f"{len(errors)} invoices refused", errors=errors
                )
            amounts = _instalment_amounts(body, currency)
            total = sum(amounts)
            if total != owed:
                message = (
                    f"the instalments add up to {format_minor(total, currency)} {currency}; "
                    f"the invoices owe {format_minor(owed, currency)} {currency}"
                )
                raise Conflict(message, errors=[FieldError(field="instalments", message=message)])
            arrangement: dict[str, Any] = {
                "id": str(uuid.uuid4()),
                "customer_id": customer_id,
                "kind": body.kind,
                "currency": currency,
                "total_minor": total,
                "agreed_on": today,
                "status": "kept",
                "broken_on": None,
                "reference": body.reference,
                "created_by": actor,
                "created_at": now,
                "status_changed_at": now,
                "cancelled_by": None,
                "cancel_reason": None,
            }
            await repository.insert_arrangement(
                session,
                arrangement,
                [
                    {
                        "arrangement_id": arrangement["id"],
                        "invoice_id": invoice_id,
                        "customer_id": customer_id,
                        "open_minor_agreed": agreed[invoice_id],
                    }
                    for invoice_id in body.invoice_ids
                ],
                [
                    {
                        "arrangement_id": arrangement["id"],
                        "number": number,
                        "due_date": item.due_date,
                        "amount_minor": amount,
                    }
                    for number, (item, amount) in enumerate(zip(body.instalments, amounts, strict=True), start=1)
                ],
            )
            (one,) = await judged(session, [arrangement["id"]], as_of=today, grace=grace_days(policy))
            stored = await recorder.respond(session, 201, arrangement_out(one, grace_days(policy)))
            payload = {
                "arrangement_id": arrangement["id"],
                "customer_id": customer_id,
                "kind": body.kind,
                "currency": currency,
                "total": format_minor(total, currency),
                "invoice_ids": list(body.invoice_ids),
                "instalments": [
                    {"due_date": item.due_date.isoformat(), "amount": format_minor(amount, currency)}
                    for item, amount in zip(body.instalments, amounts, strict=True)
                ],
                "reference": body.reference,
            }
            await self._changed(session, [customer_id])
            await append_many(session, [NewEvent(EventType.ARRANGEMENT_CREATED, customer_id, payload, actor)])
        return stored

    async def arrangements(self, customer_id: str, limit: int = 100) -> ArrangementsOut:
        async with self.database.read() as session:
            policy = await self.active_policy(session)
            if await customers.get_customer(session, customer_id) is None:
                raise NotFound(f"no customer {customer_id}")
            rows = await repository.arrangements_of(session, customer_id, limit)
            grace = grace_days(policy)
            found = await judged_rows(session, rows, as_of=utcnow().date(), grace=grace)
        return ArrangementsOut(arrangements=[arrangement_out(one, grace) for one in found])

    async def get(self, customer_id: str, arrangement_id: str) -> ArrangementOut:
        async with self.database.read() as session:
            policy = await self.active_policy(session)
            row = await repository.get_arrangement(session, customer_id, arrangement_id)
            if row is None:
                raise NotFound(f"no arrangement {arrangement_id} of customer {customer_id}")
            grace = grace_days(policy)
            (one,) = await judged_rows(session, [row], as_of=utcnow().date(), grace=grace)
        return arrangement_out(one, grace)

    async def cancel(
        self, customer_id: str, arrangement_id: str, body: CancelIn, actor: str, recorder: Recorder
    ) -> StoredResponse:
        """A kept or broken arrangement ends; its invoices count in the overdue stop again."""
        now = utcnow()
        async with self.database.transaction() as session:
            policy = await self.active_policy(session)
            if await customers.get_customer(session, customer_id, lock=True) is None:
                raise NotFound(f"no customer {customer_id}")
            row = await repository.get_arrangement(session, customer_id, arrangement_id, lock=True)
            if row is None:
                raise NotFound(f"no arrangement {arrangement_id} of customer {customer_id}")
            if row.status not in repository.OPEN_STATUSES:
                raise ArrangementNotOpen(f"arrangement {arrangement_id} is {row.status}")
            before = row.status
            await repository.cancel(session, arrangement_id, actor, body.reason, now)
            row = await repository.get_arrangement(session, customer_id, arrangement_id)
            assert row is not None
            grace = grace_days(policy)
            (one,) = await judged_rows(session, [row], as_of=now.date(), grace=grace)
            stored = await recorder.respond(session, 200, arrangement_out(one, grace))
            payload = {
                "arrangement_id": arrangement_id,
                "customer_id": customer_id,
                "before": before,
                "reason": body.reason,
            }
            await self._changed(session, [customer_id])
            await append_many(session, [NewEvent(EventType.ARRANGEMENT_CANCELLED, customer_id, payload, actor)])
        return stored

    async def refresh(
        self, session: WriteSession, customer_ids: Sequence[str] | None, *, actor: str = "system"
    ) -> list[Transition]:
        """Judge the customers' open arrangements again (None: every customer's) and store what moved.

        Called in the transaction of each payment and invoice write, and by the monitor pass (time alone
        breaks an arrangement whose instalment is not paid), each time before the signals are recomputed."""
        policy = await self.active_policy(session)
        now = utcnow()
        rows = await repository.open_arrangements(session, customer_ids, lock=True)
        if not rows:
            return []
        found = await judged_rows(session, rows, as_of=now.date(), grace=grace_days(policy))
        moved = [
            Transition(one.row.id, one.row.customer_id, one.row.status, one.judgement.status, one.judgement.broken_on)
            for one in found
            if one.judgement.status != one.row.status or one.judgement.broken_on != one.row.broken_on
        ]
        for transition in moved:
            await repository.set_status(session, transition.arrangement_id, transition.after, transition.broken_on, now)
        if moved:
            await append_many(
                session,
                [
                    NewEvent(
                        EventType.ARRANGEMENT_CHANGED,
                        t.customer_id,
                        {
                            "arrangement_id": t.arrangement_id,
                            "customer_id": t.customer_id,
                            "before": t.before,
                            "after": t.after,
                            "broken_on": None if t.broken_on is None else t.broken_on.isoformat(),
                            "grace_days": grace_days(policy),
                        },
                        actor,
                    )
                    for t in moved
                ],
            )
        return moved

    async def _changed(self, session: WriteSession, customer_ids: Sequence[str]) -> None:
        for hook in self.hooks:
            await hook(session, customer_ids)


async def judged(session: AsyncSession, arrangement_ids: Sequence[str], *, as_of: date, grace: int) -> list[Judged]:
    rows = [
        row
        for arrangement_id in arrangement_ids
        if (row := await session.get(PaymentArrangement, arrangement_id, populate_existing=True)) is not None
    ]
    return await judged_rows(session, rows, as_of=as_of, grace=grace)


async def judged_rows(
    session: AsyncSession, rows: Sequence[PaymentArrangement], *, as_of: date, grace: int
) -> list[Judged]:
    """The arrangements judged as of a day; a cancelled one keeps its status (judged for its figures)."""
    instalments, invoices = await repository.lines_of(session, [row.id for row in rows])
    found = judge(rows, lines_from_rows(instalments, invoices), as_of=as_of, grace_days=grace)
    return found


async def open_judged_of(
    session: AsyncSession, customer_ids: Sequence[str], *, as_of: date, grace: int
) -> dict[str, list[Judged]]:
    """Each customer's kept and broken arrangements, judged as of a day: what a decision weighs."""
    rows = await repository.open_arrangements(session, customer_ids)
    by_customer: dict[str, list[Judged]] = {}
    if rows:
        for one in await judged_rows(session, rows, as_of=as_of, grace=grace):
            by_customer.setdefault(one.row.customer_id, []).append(one)
    return by_customer


@dataclass(frozen=True, slots=True)
class ArrangementInputs:
    """What a decision or the monitor reads of customers' arrangements: judged ones and overdue invoices."""

    judged: dict[str, list[Judged]]
    overdue: dict[str, list[Any]]

    def facts(
        self, customer_id: str, *, currency: str, rates: RateTable, today: date
    ) -> tuple[ArrangementFacts | None, dict[str, Decimal]]:
        return arrangement_facts(
            self.judged.get(customer_id, []),
            self.overdue.get(customer_id, []),
            currency=currency,
            rates=rates,
            today=today,
        )


async def arrangement_inputs(
    session: AsyncSession, customer_ids: Sequence[str], *, today: date, policy: PolicyDocument
) -> ArrangementInputs:
    """Nothing is read under a policy without an `arrangements` section: arrangements then decide nothing."""
    if policy.arrangements is None or not customer_ids:
        return ArrangementInputs({}, {})
    judged = await open_judged_of(session, customer_ids, as_of=today, grace=grace_days(policy))
    overdue: dict[str, list[Any]] = {}
    if judged:
        for row in await repository.overdue_invoices(session, sorted(judged), today):
            overdue.setdefault(row.customer_id, []).append(row)
    return ArrangementInputs(judged, overdue)


def _check_body(body: ArrangementIn, today: date) -> None:
    """The rules between fields and against today's date (422, each naming its field)."""
    errors: list[FieldError] = []
    first: dict[str, int] = {}
    for index, invoice_id in enumerate(body.invoice_ids):
        if invoice_id in first:
            message = f"the same invoice as invoice_ids[{first[invoice_id]}]"
            errors.append(FieldError(field=f"invoice_ids[{index}]", message=message))
        else:
            first[invoice_id] = index
    if body.kind == "promise" and len(body.instalments) != 1:
        errors.append(FieldError(field="instalments", message="a promise to pay has exactly one instalment"))
    latest = today + timedelta(days=MAX_PLAN_DAYS)
    for index, item in enumerate(body.instalments):
        field = f"instalments[{index}].due_date"
        if item.due_date < today:
            errors.append(FieldError(field=field, message=f"must be today ({today.isoformat()}) or later"))
        elif item.due_date > latest:
            errors.append(FieldError(field=field, message=f"must be by {latest.isoformat()} (three years ahead)"))
        elif index > 0 and item.due_date <= body.instalments[index - 1].due_date:
            errors.append(FieldError(field=field, message="must be after the due date of the instalment before"))
    if errors:
        raise InvalidRequest("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors=errors)


def _instalment_amounts(body: ArrangementIn, currency: str) -> list[int]:
    amounts, errors = [], []
    for index, item in enumerate(body.instalments):
        try:
            amounts.append(to_minor(Decimal(item.amount), currency))
        except ValueError as exc:  # finer than the invoices' currency: the stored invoices refuse it
            errors.append(FieldError(field=f"instalments[{index}].amount", message=str(exc)))
    if errors:
        raise Conflict(errors[0].message, errors=errors)
    return amounts


def arrangement_out(one: Judged, grace: int) -> ArrangementOut:
    row, lines, state = one.row, one.lines, one.judgement
    currency = row.currency
    status = "cancelled" if row.status == "cancelled" else state.status
    return ArrangementOut(
        id=row.id,
        customer_id=row.customer_id,
        kind=row.kind,
        status=status,
        currency=currency,
        total=format_minor(row.total_minor, currency),
        paid=format_minor(state.paid_minor, currency),
        due_so_far=format_minor(state.due_minor, currency),
        agreed_on=row.agreed_on,
        grace_days=grace,
        broken_on=state.broken_on,
        missed_instalment=state.missed_instalment,
        next_due_date=state.next_due_date if status == "kept" else None,
        invoices=[
            ArrangedInvoiceOut(
                invoice_id=invoice.invoice_id,
                open_amount_agreed=format_minor(invoice.open_minor_agreed, currency),
                open_amount=format_minor(invoice.open_minor, currency),
            )
            for invoice in sorted(lines.invoices.values(), key=lambda invoice: invoice.invoice_id)
        ],
        instalments=[
            InstalmentOut(number=number, due_date=item.due_date, amount=format_minor(item.amount_minor, currency))
            for number, item in enumerate(sorted(lines.instalments, key=lambda i: i.due_date), start=1)
        ],
        reference=row.reference,
        created_by=row.created_by,
        created_at=row.created_at,
        cancelled_by=row.cancelled_by,
        cancel_reason=row.cancel_reason,
    )


__all__ = ["ArrangementLines", "ArrangementService", "Transition", "open_judged_of"]
