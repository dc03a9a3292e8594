"""Limit requests: a proposed limit or temporary uplift, decided by reviewers (four eyes above the policy's
amount, never by the key that asked), applied to the customer with its history, audited and announced."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.active_policy import ActivePolicy
from app.audit.service import EventType, append
from app.auth import Principal
from app.customers import repository as customers
from app.customers.models import Customer
from app.customers.service import change_credit_terms
from app.db import Database, WriteSession, utcnow
from app.errors import Conflict, FieldError, Forbidden, InvalidRequest, NotFound
from app.fields import parse_amount, utc_text
from app.idempotency.service import Recorder, StoredResponse
from app.limits import repository
from app.limits.models import LimitRequest, LimitRequestReview
from app.limits.schemas import LimitRequestIn, LimitRequestList, LimitRequestOut, LimitReviewIn, LimitReviewOut
from app.money import format_minor, from_minor, to_minor
from app.policy.schema import PolicyDocument
from app.webhooks.service import enqueue_event

OPPORTUNITIES = "opportunities"  # the requester of the opportunities pass's proposals


class RequesterCannotReview(Forbidden):
    code, title = "requester_cannot_review", "The key that asked for a limit does not decide the request"


class RequestNotPending(Conflict):
    code, title = "limit_request_not_pending", "The limit request is already decided"


class RequestExpired(Conflict):
    code, title = "limit_request_expired", "The limit request lapsed undecided; ask again"


class FourEyesRequired(Conflict):
    code, title = "four_eyes_required_other_reviewer", "Above the four-eyes amount a second, different reviewer decides"


class LimitRequestService:
    def __init__(self, database: Database, active_policy: ActivePolicy) -> None:
        self.database = database
        self.active_policy = active_policy

    async def create(self, body: LimitRequestIn, principal: Principal, recorder: Recorder) -> StoredResponse:
        role = "credit_manager" if "review" in principal.scopes else "sales"
        async with self.database.transaction() as session:
            customer = await customers.get_customer(session, body.customer_id, lock=True)
            if customer is None:
                raise NotFound(f"no customer {body.customer_id}")
            policy = await self.active_policy(session)
            values = await _new_request(session, body, customer, policy, principal.key_id, role, utcnow())
            await repository.add_request(session, values)
            row = await repository.get_request(session, values["id"])
            assert row is not None
            out = request_out(row, [], utcnow())
            stored = await recorder.respond(session, 201, out)
            await append(
                session, EventType.LIMIT_REQUEST_CREATED, row.customer_id, _created_event(out), principal.key_id
            )
        return stored

    async def propose(self, session: WriteSession, values: dict[str, Any]) -> LimitRequestOut:
        """Store a request the opportunities pass proposes (in its transaction), audited like any other."""
        await repository.add_request(session, values)
        row = await repository.get_request(session, values["id"])
        assert row is not None
        out = request_out(row, [], values["created_at"])
        await append(session, EventType.LIMIT_REQUEST_CREATED, row.customer_id, _created_event(out), OPPORTUNITIES)
        return out

    async def get(self, request_id: str) -> LimitRequestOut:
        async with self.database.read() as session:
            row = await repository.get_request(session, request_id)
            if row is None:
                raise NotFound(f"no limit request {request_id}")
            reviews = await repository.reviews_of(session, [row.id])
        return request_out(row, reviews.get(row.id, []), utcnow())

    async def list(self, status: str | None, customer_id: str | None, limit: int) -> LimitRequestList:
        now = utcnow()
        async with self.database.read() as session:
            rows = await repository.list_requests(session, status=status, customer_id=customer_id, now=now, limit=limit)
            reviews = await repository.reviews_of(session, [row.id for row in rows])
        return LimitRequestList(items=[request_out(row, reviews.get(row.id, []), now) for row in rows])

    async def review(
        self, request_id: str, body: LimitReviewIn, principal: Principal, recorder: Recorder
    ) -> StoredResponse:
        """One reviewer's step; the deciding step approves (and applies) or refuses the request."""
        async with self.database.read() as session:
            found = await repository.get_request(session, request_id)
        if found is None:
            raise NotFound(f"no limit request {request_id}")
        if found.requested_by == principal.key_id:
            raise RequesterCannotReview(f"limit request {request_id} was asked for with this key; another key decides")
        try:
            async with self.database.transaction() as session:
                # The customer's row serialises the review with decisions and other changes of the customer.
                (customer,) = await customers.lock_customers(session, [found.customer_id])
                row = await repository.get_request(session, request_id)
                assert row is not None
                now = utcnow()
                if row.status != "pending":
                    raise RequestNotPending(f"limit request {request_id} is already {row.status}")
                if now >= row.valid_until:
                    raise RequestExpired(f"limit request {request_id} lapsed at {utc_text(row.valid_until)}")
                earlier = (await repository.reviews_of(session, [row.id])).get(row.id, [])
                step = len(earlier) + 1
                if step == 2 and earlier[0].reviewer == principal.key_id:
                    raise FourEyesRequired("the second review must come from another reviewer")
                final = body.outcome == "refuse" or step == 2 or not row.four_eyes
                review = {
                    "request_id": row.id,
                    "step": step,
                    "reviewer": principal.key_id,
                    "outcome": body.outcome,
                    "final": final,
                    "reason": body.reason,
                    "reviewed_at": now,
                }
                await repository.add_review(session, review)
                if final:
                    status = "approved" if body.outcome == "approve" else "refused"
                    if not await repository.settle(session, row.id, status, now):
                        raise RequestNotPending(f"limit request {request_id} was decided concurrently")
                    if status == "approved":
                        await self._apply(session, row, customer, body.reason, principal.key_id, now)
                row = await repository.get_request(session, request_id)
                assert row is not None
                reviews = (await repository.reviews_of(session, [row.id])).get(row.id, [])
                out = request_out(row, reviews, now)
                stored = await recorder.respond(session, 201, out)
                if final:
                    await enqueue_event(session, "limit_request.decided", _decided_event(out))
                event = {**review_out_values(review), "customer_id": row.customer_id, "status": out.status}
                await append(session, EventType.LIMIT_REQUEST_REVIEWED, row.customer_id, event, principal.key_id)
        except IntegrityError:
            # Another reviewer recorded the same step a moment earlier: the primary key let one of them win.
            raise RequestNotPending(f"limit request {request_id} was reviewed concurrently; reload") from None
        return stored

    async def _apply(
        self, session: WriteSession, row: LimitRequest, customer: Customer, reason: str, actor: str, now: datetime
    ) -> None:
        """The approved limit on the customer: manual limit, group limit or temporary uplift."""
        if customer.limit_currency is not None and customer.limit_currency != row.currency:
            raise Conflict(
                f"customer {customer.id}'s limits are now in {customer.limit_currency}, the request in {row.currency}"
            )
        text = f"limit request {row.id}: {row.reason}"[:500]
        values: dict[str, Any] = {"limit_currency": row.currency}
        if row.kind == "temporary":
            assert row.ends_at is not None
            if row.ends_at <= now:
                raise Conflict(f"the uplift's period ended at {utc_text(row.ends_at)}; ask again")
            values |= {
                "uplift_minor": row.amount_minor,
                "uplift_starts_at": row.starts_at or now,
                "uplift_ends_at": row.ends_at,
                "uplift_reason": text,
            }
        elif row.target == "group":
            values["group_limit_minor"] = row.amount_minor
        else:
            values |= {
                "manual_limit_minor": row.amount_minor,
                "manual_limit_reason": text,
                "manual_limit_expires_at": None,
            }
        await change_credit_terms(session, customer, values, reason, actor, "request", request_id=row.id)


async def _new_request(
    session: WriteSession,
    body: LimitRequestIn,
    customer: Customer,
    policy: PolicyDocument,
    requested_by: str,
    role: str,
    now: datetime,
) -> dict[str, Any]:
    if body.target == "group" and customer.parent_id is not None:
        message = f"customer {customer.id} is in the group of {customer.parent_id}: ask for the root's group limit"
        raise Conflict(message, errors=[FieldError(field="target", message=message)])
    if customer.limit_currency is not None and body.currency not in (None, customer.limit_currency):
        message = f"the customer's limits are in {customer.limit_currency}"
        raise Conflict(message, errors=[FieldError(field="currency", message=message)])
    currency = customer.limit_currency or body.currency or policy.currency
    try:
        amount = to_minor(parse_amount(body.amount, currency, allow_zero=body.kind == "standing"), currency)
    except ValueError as exc:
        raise _invalid("amount", str(exc)) from None
    starts_at, ends_at = body.starts_at, body.ends_at
    if ends_at is not None:
        if ends_at <= now:
            raise _invalid("ends_at", "must be in the future")
        if ends_at - (starts_at or now) > timedelta(days=policy.limits.max_uplift_days):
            raise _invalid("ends_at", f"an uplift runs at most {policy.limits.max_uplift_days} days (policy)")
    longest = now + timedelta(days=policy.limits.request_valid_days)
    valid_until = body.valid_until or longest
    if valid_until <= now:
        raise _invalid("valid_until", "must be in the future")
    if valid_until > longest:
        raise _invalid("valid_until", f"at most {policy.limits.request_valid_days} days ahead (policy)")
    rates = await customers.rate_table(session)
    threshold = policy.limits.four_eyes_above or policy.review.four_eyes_above
    four_eyes = False
    if threshold is not None:
        rate = rates.rate(currency, policy.currency)
        four_eyes = rate is None or from_minor(amount, currency) > threshold * rate
    return request_values(
        customer,
        body.kind,
        body.target,
        currency,
        amount,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=body.reason,
        requested_by=requested_by,
        role=role,
        valid_until=valid_until,
        four_eyes=four_eyes,
        now=now,
    )


def request_values(
    customer: Customer,
    kind: str,
    target: str,
    currency: str,
    amount: int,
    *,
    starts_at: datetime | None,
    ends_at: datetime | None,
    reason: str,
    requested_by: str,
    role: str,
    valid_until: datetime,
    four_eyes: bool,
    now: datetime,
    proposal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    same = customer.limit_currency == currency
    current = {
        ("standing", "customer"): customer.manual_limit_minor,
        ("standing", "group"): customer.group_limit_minor,
        ("temporary", "customer"): customer.uplift_minor,
    }.get((kind, target))
    return {
        "id": str(uuid.uuid4()),
        "customer_id": customer.id,
        "target": target,
        "kind": kind,
        "currency": currency,
        "amount_minor": amount,
        "current_limit_minor": current if same else None,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "reason": reason,
        "requested_by": requested_by,
        "requester_role": role,
        "valid_until": valid_until,
        "four_eyes": four_eyes,
        "status": "pending",
        "decided_at": None,
        "proposal": proposal,
        "created_at": now,
    }


def status_of(row: LimitRequest, now: datetime) -> str:
    return "expired" if row.status == "pending" and now >= row.valid_until else row.status


def request_out(row: LimitRequest, reviews: list[LimitRequestReview], now: datetime) -> LimitRequestOut:
    status = status_of(row, now)
    awaiting = None
    if status == "pending":
        awaiting = "second_review" if reviews else "first_review"
    return LimitRequestOut(
        id=row.id,
        customer_id=row.customer_id,
        kind=row.kind,
        target=row.target,
        amount=format_minor(row.amount_minor, row.currency),
        currency=row.currency,
        current_limit=format_minor(row.current_limit_minor, row.currency)
        if row.current_limit_minor is not None
        else None,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        requested_by=row.requested_by,
        requester_role=row.requester_role,
        valid_until=row.valid_until,
        four_eyes=row.four_eyes,
        status=status,
        awaiting=awaiting,
        reviews=[LimitReviewOut(**review_out_values(review)) for review in reviews],
        proposal=row.proposal,
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


def review_out_values(review: LimitRequestReview | dict[str, Any]) -> dict[str, Any]:
    names = ("request_id", "step", "reviewer", "outcome", "final", "reason", "reviewed_at")
    if isinstance(review, dict):
        return {name: review[name] for name in names}
    return {name: getattr(review, name) for name in names}


def _created_event(out: LimitRequestOut) -> dict[str, Any]:
    return {
        "request_id": out.id,
        "customer_id": out.customer_id,
        "kind": out.kind,
        "target": out.target,
        "amount": out.amount,
        "currency": out.currency,
        "current_limit": out.current_limit,
        "starts_at": out.starts_at,
        "ends_at": out.ends_at,
        "reason": out.reason,
        "requester_role": out.requester_role,
        "valid_until": out.valid_until,
        "four_eyes": out.four_eyes,
        "proposal": out.proposal,
    }


def _decided_event(out: LimitRequestOut) -> dict[str, Any]:
    return {
        "request_id": out.id,
        "customer_id": out.customer_id,
        "outcome": out.status,
        "kind": out.kind,
        "target": out.target,
        "amount": out.amount,
        "currency": out.currency,
        "starts_at": utc_text(out.starts_at) if out.starts_at else None,
        "ends_at": utc_text(out.ends_at) if out.ends_at else None,
        "reviewers": [review.reviewer for review in out.reviews],
        "decided_at": utc_text(out.decided_at) if out.decided_at else None,
    }


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{field}: {message}", errors=[FieldError(field=field, message=message)])
