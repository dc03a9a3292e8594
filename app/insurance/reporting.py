"""The insurance policy's duty to report overdue invoices of insured buyers by a deadline: the queue (computed
on each read from the invoices, so an invoice enters it the day it qualifies, with no job to run), its export,
and marking an invoice reported (kept, audited)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from app.active_policy import ActivePolicy
from app.audit.service import EventType, append
from app.db import Database, utcnow
from app.errors import Conflict, FieldError, InvalidRequest, NotFound
from app.fields import Text
from app.idempotency.service import Recorder, StoredResponse
from app.insurance import repository
from app.insurance.schemas import Reference
from app.money import format_minor
from app.policy.schema import OverdueReporting
from app.schema_types import IsoDate
from app.schemas import Body, Money

ReportState = Literal["to_report", "reported"]
StateFilter = Literal["to_report", "reported", "all"]


class OverdueReportIn(Body):
    reported_on: IsoDate | None = Field(default=None, description="The day it was reported; default today (UTC).")
    reference: Reference | None = Field(default=None, description="The insurer's reference of the notification.")
    note: Text | None = Field(default=None, max_length=500)


class OverdueReportItem(BaseModel):
    customer_id: str
    invoice_id: str
    currency: str
    open_amount: Money = Field(description="Open now; for a reported invoice, what was open when reported.")
    due_date: date
    overdue_days: int
    deadline: date = Field(description="The invoice must be reported by this day (due date + deadline_days).")
    state: ReportState
    reported_on: date | None
    reference: str | None
    reported_by: str | None
    late: bool = Field(description="Past its deadline without being reported, or reported after it.")


class OverdueReportQueue(BaseModel):
    as_of: date
    after_days: int | None = Field(description="The policy's `insurance.reporting.after_days`; null: no duty.")
    deadline_days: int | None
    items: list[OverdueReportItem] = Field(description="By deadline, customer and invoice.")


class NotReportable(Conflict):
    code, title = "not_reportable", "The invoice is not in the reporting queue"


class AlreadyReported(Conflict):
    code, title = "already_reported", "The invoice was reported already"


class OverdueReportService:
    def __init__(self, database: Database, active_policy: ActivePolicy) -> None:
        self.database = database
        self.active_policy = active_policy

    async def queue(self, state: StateFilter) -> OverdueReportQueue:
        policy = await self.active_policy()
        rules = policy.insurance.reporting if policy.insurance is not None else None
        today = utcnow().date()
        items: dict[tuple[str, str], OverdueReportItem] = {}
        async with self.database.read() as session:
            if rules is not None:
                for row in await repository.reportable_invoices(session, today, _entered_by(today, rules)):
                    item = OverdueReportItem(
                        customer_id=row.customer_id,
                        invoice_id=row.invoice_id,
                        currency=row.currency,
                        open_amount=format_minor(row.open_amount_minor, row.currency),
                        due_date=row.due_date,
                        overdue_days=(today - row.due_date).days,
                        deadline=row.due_date + timedelta(days=rules.deadline_days),
                        state="reported" if row.reported_on is not None else "to_report",
                        reported_on=row.reported_on,
                        reference=row.reference,
                        reported_by=row.recorded_by,
                        late=False,
                    )
                    items[(item.customer_id, item.invoice_id)] = item
            if state != "to_report":
                for report in await repository.reported(session):
                    items.setdefault(
                        (report.customer_id, report.invoice_id),
                        OverdueReportItem(
                            customer_id=report.customer_id,
                            invoice_id=report.invoice_id,
                            currency=report.currency,
                            open_amount=format_minor(report.open_amount_minor, report.currency),
                            due_date=report.due_date,
                            overdue_days=(report.reported_on - report.due_date).days,
                            deadline=report.deadline,
                            state="reported",
                            reported_on=report.reported_on,
                            reference=report.reference,
                            reported_by=report.recorded_by,
                            late=False,
                        ),
                    )
        chosen = [
            item.model_copy(update={"late": _late(item, today)})
            for item in items.values()
            if state == "all" or item.state == state
        ]
        chosen.sort(key=lambda item: (item.deadline, item.customer_id, item.invoice_id))
        return OverdueReportQueue(
            as_of=today,
            after_days=rules.after_days if rules is not None else None,
            deadline_days=rules.deadline_days if rules is not None else None,
            items=chosen,
        )

    async def export_csv(self, state: StateFilter) -> str:
        queue = await self.queue(state)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        names = list(OverdueReportItem.model_fields)
        writer.writerow(names)
        for item in queue.items:
            values = item.model_dump(mode="json")
            writer.writerow(["" if values[name] is None else _cell(values[name]) for name in names])
        return out.getvalue()

    async def mark_reported(
        self, customer_id: str, invoice_id: str, body: OverdueReportIn, recorder: Recorder, *, actor: str
    ) -> StoredResponse:
        """Record that the invoice was reported to the insurer; it must be in the queue, and only once."""
        policy = await self.active_policy()
        rules = policy.insurance.reporting if policy.insurance is not None else None
        now = utcnow()
        today = now.date()
        reported_on = body.reported_on or today
        if reported_on > today:
            message = "must not be after today (UTC)"
            raise InvalidRequest(f"reported_on: {message}", errors=[FieldError(field="reported_on", message=message)])
        async with self.database.transaction() as session:
            if await repository.get_report(session, customer_id, invoice_id) is not None:
                raise AlreadyReported(f"invoice {invoice_id} of customer {customer_id} was reported already")
            rows = (
                [] if rules is None else await repository.reportable_invoices(session, today, _entered_by(today, rules))
            )
            row = next((r for r in rows if (r.customer_id, r.invoice_id) == (customer_id, invoice_id)), None)
            if row is None or rules is None:
                if not await repository.invoice_exists(session, customer_id, invoice_id):
                    raise NotFound(f"no invoice {invoice_id} of customer {customer_id}")
                raise NotReportable(
                    f"invoice {invoice_id} is not in the reporting queue: not open, not overdue long enough, its "
                    "customer has no cover in force, or the policy has no insurance.reporting"
                )
            deadline = row.due_date + timedelta(days=rules.deadline_days)
            values = {
                "customer_id": customer_id,
                "invoice_id": invoice_id,
                "currency": row.currency,
                "open_amount_minor": row.open_amount_minor,
                "due_date": row.due_date,
                "deadline": deadline,
                "reported_on": reported_on,
                "reference": body.reference,
                "recorded_at": now,
                "recorded_by": actor,
            }
            await repository.insert_report(session, values)
            item = OverdueReportItem(
                customer_id=customer_id,
                invoice_id=invoice_id,
                currency=row.currency,
                open_amount=format_minor(row.open_amount_minor, row.currency),
                due_date=row.due_date,
                overdue_days=(today - row.due_date).days,
                deadline=deadline,
                state="reported",
                reported_on=reported_on,
                reference=body.reference,
                reported_by=actor,
                late=reported_on > deadline,
            )
            stored = await recorder.respond(session, 201, item)
            payload = {**item.model_dump(mode="json"), "note": body.note}
            await append(session, EventType.OVERDUE_REPORTED, customer_id, payload, actor)
            return stored


def _entered_by(today: date, rules: OverdueReporting) -> date:
    """The latest due date of an invoice that is in the queue today."""
    return today - timedelta(days=rules.after_days)


def _late(item: OverdueReportItem, today: date) -> bool:
    if item.reported_on is not None:
        return item.reported_on > item.deadline
    return today > item.deadline


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
