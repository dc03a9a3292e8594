"""Review dates: each limit's next review from the policy's months per risk class, and the queue of those due.

A limit counts as looked at when its history last moved: a change from the ERP, the console, an approved request,
monitoring, or a reviewer's confirmation of the limit as it stands."""

from __future__ import annotations

import calendar
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.active_policy import ActivePolicy
from app.audit.service import EventType, append
from app.auth import Principal
from app.customers import repository as customers
from app.customers.models import Customer
from app.db import Database, utcnow
from app.errors import FieldError, InvalidRequest, NotFound
from app.fields import Text, utc_text
from app.idempotency.service import Recorder, StoredResponse
from app.limits import repository
from app.money import format_minor
from app.policy.schema import PolicyDocument
from app.schemas import Body, Money

DueWhy = Literal["review_date", "manual_limit_expired", "manual_limit_expires"]


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_months(policy: PolicyDocument, risk_class: str | None) -> int:
    """The policy's months for the class; an insolvent company as the worst class, no rating as `unknown`."""
    if risk_class == "insolvent":
        risk_class = "E"
    return policy.limits.review_months.get(risk_class or "unknown", policy.limits.review_months["unknown"])


class DueLimit(BaseModel):
    customer_id: str
    name: str | None
    risk_class: str = Field(description="As last seen (monitoring, else the latest decision); `unknown` if none.")
    review_months: int
    last_reviewed_at: datetime = Field(
        description="The limit's last change or confirmation (else the customer's creation)."
    )
    next_review_on: date
    manual_limit: Money | None
    currency: str | None
    manual_limit_expires_at: datetime | None
    why: list[DueWhy] = Field(
        description="review_date: the next review date is reached; manual_limit_expired: the manual limit has "
        "expired and falls back as the policy says; manual_limit_expires: it expires by `due_by`."
    )


class LimitReviewQueue(BaseModel):
    as_of: datetime
    due_by: date
    expired_manual_limit: Literal["policy", "zero", "keep"] = Field(
        description="What an expired manual limit gives under the active policy."
    )
    items: list[DueLimit] = Field(description="Earliest review date first.")


class LimitConfirmIn(Body):
    reason: Annotated[Text, Field(min_length=1, max_length=500)] = Field(
        description="What the review found; kept in the history and the audit trail."
    )


class LimitReviewService:
    def __init__(self, database: Database, active_policy: ActivePolicy) -> None:
        self.database = database
        self.active_policy = active_policy

    async def queue(self, due_by: date | None, limit: int) -> LimitReviewQueue:
        now = utcnow()
        until = due_by or now.date()
        async with self.database.read() as session:
            policy = await self.active_policy(session)
            rows = await repository.review_candidates(session)
            looked_at = await repository.last_limit_changes(session)
            classes = await repository.risk_classes(session)
        items = []
        for row in rows:
            item = due_limit(row, looked_at.get(row.id), classes.get(row.id), policy, now)
            if item.next_review_on <= until or (
                item.manual_limit_expires_at is not None and item.manual_limit_expires_at.date() <= until
            ):
                items.append(_with_why(item, until, now))
        items.sort(key=lambda item: (item.next_review_on, item.customer_id))
        return LimitReviewQueue(
            as_of=now, due_by=until, expired_manual_limit=policy.limits.expired_manual_limit, items=items[:limit]
        )

    async def confirm(
        self, customer_id: str, body: LimitConfirmIn, principal: Principal, recorder: Recorder
    ) -> StoredResponse:
        """A reviewer confirms the limit as it stands: a history row (origin `review`), so the next review date
        moves on; audited."""
        reason = body.reason.strip()
        if not reason:
            raise InvalidRequest("reason: give the reason", errors=[FieldError(field="reason", message="give it")])
        now = utcnow()
        async with self.database.transaction() as session:
            row = await customers.get_customer(session, customer_id, lock=True)
            if row is None:
                raise NotFound(f"no customer {customer_id}")
            policy = await self.active_policy(session)
            currency = row.limit_currency or policy.currency
            manual = row.manual_limit_minor if row.limit_currency is not None else None
            await customers.add_limit_change(
                session,
                {
                    "id": str(uuid.uuid4()),
                    "customer_id": row.id,
                    "old_limit_minor": manual,
                    "new_limit_minor": manual,
                    "currency": currency,
                    "changes": [{"field": "confirmed", "old": None, "new": utc_text(now)}],
                    "source": "review",
                    "policy_version": policy.version,
                    "actor": principal.key_id,
                    "reason": reason,
                    "request_id": None,
                    "created_at": now,
                },
            )
            classes = await repository.risk_classes(session)
            item = due_limit(row, now, classes.get(row.id), policy, now)
            stored = await recorder.respond(session, 201, item)
            payload = {
                "customer_id": row.id,
                "manual_limit": format_minor(manual, currency) if manual is not None else None,
                "currency": currency,
                "reason": reason,
                "next_review_on": item.next_review_on.isoformat(),
            }
            await append(session, EventType.LIMIT_REVIEW_CONFIRMED, row.id, payload, principal.key_id)
        return stored


def due_limit(
    row: Customer, looked_at: datetime | None, risk_class: str | None, policy: PolicyDocument, now: datetime
) -> DueLimit:
    reviewed = looked_at or row.created_at
    months = review_months(policy, risk_class)
    manual = row.manual_limit_minor is not None and row.limit_currency is not None
    return DueLimit(
        customer_id=row.id,
        name=row.name,
        risk_class=risk_class or "unknown",
        review_months=months,
        last_reviewed_at=reviewed,
        next_review_on=add_months(reviewed.date(), months),
        manual_limit=format_minor(row.manual_limit_minor, row.limit_currency)
        if manual and row.manual_limit_minor is not None and row.limit_currency
        else None,
        currency=row.limit_currency,
        manual_limit_expires_at=row.manual_limit_expires_at if manual else None,
        why=[],
    )


def _with_why(item: DueLimit, until: date, now: datetime) -> DueLimit:
    why: list[DueWhy] = []
    if item.next_review_on <= until:
        why.append("review_date")
    expires = item.manual_limit_expires_at
    if expires is not None and expires <= now:
        why.append("manual_limit_expired")
    elif expires is not None and expires.date() <= until:
        why.append("manual_limit_expires")
    return item.model_copy(update={"why": why})
