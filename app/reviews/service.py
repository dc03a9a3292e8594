"""Reviewing a case: four eyes above the policy's amount, the reservation follows the settling review."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.audit.service import EventType, append
from app.auth import Principal
from app.customers import repository as customers
from app.customers.rates import RateTable
from app.db import Database, utcnow
from app.decisions import repository as decisions
from app.decisions.models import Decision, Review
from app.decisions.query import Cursor
from app.decisions.schemas import decision_out
from app.errors import Conflict, FieldError, Forbidden, InvalidRequest, NotFound
from app.idempotency.service import Recorder, StoredResponse
from app.money import format_minor, from_minor, to_minor
from app.orders import repository as orders
from app.orders.service import credit_reservation, reserve_credit
from app.policy.schema import PolicyDocument
from app.policy_versions.service import PolicyService
from app.reviews import repository
from app.reviews.schemas import ReviewCase, ReviewIn, ReviewOut, ReviewQueue
from app.webhooks.service import enqueue_event


class NotUnderReview(Conflict):
    code, title = "not_under_review", "The decision is not awaiting a review"


class FourEyesRequired(Conflict):
    code, title = "four_eyes_required_other_reviewer", "Above the four-eyes amount a second, different reviewer settles"


class Superseded(Conflict):
    code, title = "decision_superseded", "A later decision for the same order replaced this one"


class ReviewerRequestedDecision(Forbidden):
    code, title = "reviewer_requested_decision", "The key that asked for a decision does not review it"


class ReviewService:
    def __init__(self, database: Database, policies: PolicyService, reservation_days: int) -> None:
        self.database = database
        self.policies = policies
        self.reservation_days = reservation_days

    async def queue(self, limit: int, cursor: str | None) -> ReviewQueue:
        position = Cursor.decode(cursor) if cursor else None
        async with self.database.read() as session:
            rows = await repository.open_cases(session, limit + 1, position)
            page = rows[:limit]
            reviews = await repository.reviews_of(session, [row.id for row in page])
        items = [
            ReviewCase(
                decision=decision_out(row),
                requested_by=row.api_key_id,
                reviews=[review_out(review) for review in reviews.get(row.id, [])],
                awaiting="second_review" if reviews.get(row.id) else "first_review",
            )
            for row in page
        ]
        next_cursor = Cursor(page[-1].decided_at, page[-1].id).encode() if len(rows) > limit else None
        return ReviewQueue(items=items, next_cursor=next_cursor)

    async def reviews(self, decision_id: str) -> list[ReviewOut]:
        async with self.database.read() as session:
            found = await repository.reviews_of(session, [decision_id])
        return [review_out(review) for review in found.get(decision_id, [])]

    async def review(
        self, decision_id: str, body: ReviewIn, principal: Principal, recorder: Recorder | None = None
    ) -> StoredResponse:
        """Record one reviewer's step; the settling step moves the order's reservation to the reviewed terms."""
        async with self.database.read() as session:
            decision = await decisions.get_decision(session, decision_id)
        if decision is None:
            raise NotFound(f"no decision {decision_id}")
        # A review settles a case the policy sent to a person; it never overrides an accept, a prepayment or
        # a reject the policy decided itself (a blocked customer stays rejected until unblocked).
        if decision.outcome != "review":
            raise NotUnderReview(
                f"decision {decision.id} was decided {decision.outcome}; only decisions sent to review are reviewed"
            )
        if decision.api_key_id == principal.key_id:
            raise ReviewerRequestedDecision(
                f"decision {decision.id} was asked for with this key; another reviewer's key reviews it"
            )
        policy = await self.policies.document(decision.policy_version)
        approved, prepayment = _terms(body, decision)
        try:
            async with self.database.transaction() as session:
                # The customer's row serialises a review with decisions and events for the same customer.
                await customers.lock_customers(session, [decision.customer_id])
                earlier = (await repository.reviews_of(session, [decision.id])).get(decision.id, [])
                if any(review.final for review in earlier):
                    raise NotUnderReview(f"decision {decision.id} is already settled by a review")
                if await repository.latest_decision_id_for_order(session, decision.order_id) != decision.id:
                    raise Superseded(f"a later decision for order {decision.order_id} replaced {decision.id}")
                rates = await customers.rate_table(session)
                step = len(earlier) + 1
                if step == 2 and earlier[0].reviewer == principal.key_id:
                    raise FourEyesRequired("the second review must come from another reviewer")
                final = step == 2 or not _needs_four_eyes(decision, policy, rates)
                now = utcnow()
                values: dict[str, Any] = {
                    "id": str(uuid.uuid4()),
                    "decision_id": decision.id,
                    "step": step,
                    "final": final,
                    "reviewer": principal.key_id,
                    "outcome": body.outcome,
                    "currency": decision.currency,
                    "approved_credit_minor": approved,
                    "prepayment_minor": prepayment,
                    "reason": body.reason,
                    "reviewed_at": now,
                }
                await repository.insert_review(session, values)
                if final:
                    await self._settle(session, decision, approved, now)
                    await repository.close_case(session, decision.id)
                stored = await (recorder or Recorder(None)).respond(session, 201, _review_out(values))
                event = _event(values)
                # The ERP hears of the review through the outbox, committed with it.
                await enqueue_event(
                    session,
                    "decision.reviewed",
                    {**event, "order_id": decision.order_id, "customer_id": decision.customer_id},
                )
                await append(session, EventType.DECISION_REVIEWED, decision.id, event, principal.key_id)
        except IntegrityError:
            # Another reviewer recorded the same step a moment earlier.
            raise Conflict(f"decision {decision_id} was reviewed concurrently; reload and retry") from None
        return stored

    async def _settle(self, session: Any, decision: Decision, approved: int, now: Any) -> None:
        reservation = await orders.get_reservation(session, decision.order_id, lock=True)
        if reservation is not None and reservation.status not in ("active", "released"):
            raise Conflict(f"order {decision.order_id} is already {reservation.status}; its credit cannot change")
        replacement = credit_reservation(
            order_id=decision.order_id,
            customer_id=decision.customer_id,
            decision_id=decision.id,
            currency=decision.currency,
            order_amount_minor=decision.amount_minor,
            approved_minor=approved,
            payment_terms_days=decision.payment_terms_days if approved else 0,
            replaces_existing=reservation is not None,
            at=now,
            days=self.reservation_days,
            vat_minor=_order_vat_minor(decision.request, decision.currency),
        )
        await reserve_credit(session, replacement)


def _terms(body: ReviewIn, decision: Decision) -> tuple[int, int]:
    """(approved credit, prepayment) in minor units; they add up to the order for accept and prepayment."""
    amount = decision.amount_minor
    given = None
    if body.approved_credit_amount is not None:
        try:
            given = to_minor(Decimal(body.approved_credit_amount), decision.currency)
        except ValueError as exc:
            raise _against_order("approved_credit_amount", str(exc)) from None
    if body.outcome == "accept":
        if given is not None and given != amount:
            raise _against_order(
                "approved_credit_amount", "accept puts the whole order on credit; use prepayment for less"
            )
        return amount, 0
    if body.outcome == "prepayment":
        approved = given or 0
        if approved >= amount:
            raise _against_order(
                "approved_credit_amount", "must be less than the order amount; use accept for all of it"
            )
        return approved, amount - approved
    if given:
        raise _invalid("approved_credit_amount", "a reject approves no credit")
    return 0, 0


def _needs_four_eyes(decision: Decision, policy: PolicyDocument, rates: RateTable) -> bool:
    threshold = policy.review.four_eyes_above
    if threshold is None:
        return False
    rate = rates.rate(decision.currency, policy.currency)
    if rate is None:
        return True  # no rate to compare with: the cautious reading
    return from_minor(decision.amount_minor, decision.currency) > threshold * rate


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, errors=[FieldError(field=field, message=message)])


def _against_order(field: str, message: str) -> Conflict:
    """Terms that do not fit the decided order (its amount, its currency): the body alone is well formed."""
    return Conflict(message, errors=[FieldError(field=field, message=message)])


def _review_out(values: dict[str, Any]) -> ReviewOut:
    currency = values["currency"]
    return ReviewOut(
        id=values["id"],
        decision_id=values["decision_id"],
        step=values["step"],
        final=values["final"],
        reviewer=values["reviewer"],
        outcome=values["outcome"],
        currency=currency,
        approved_credit_amount=format_minor(values["approved_credit_minor"], currency),
        prepayment_amount=format_minor(values["prepayment_minor"], currency),
        reason=values["reason"],
        reviewed_at=values["reviewed_at"],
    )


def review_out(review: Review) -> ReviewOut:
    return _review_out({column.key: getattr(review, column.key) for column in Review.__table__.columns})


def _event(values: dict[str, Any]) -> dict[str, Any]:
    review = _review_out(values)
    return {
        "review_id": review.id,
        "decision_id": review.decision_id,
        "step": review.step,
        "final": review.final,
        "outcome": review.outcome,
        "currency": review.currency,
        "approved_credit_amount": review.approved_credit_amount,
        "prepayment_amount": review.prepayment_amount,
        "reason": review.reason,
        "reviewed_at": review.reviewed_at,
    }


def _order_vat_minor(request: dict[str, Any], currency: str) -> int | None:
    """The VAT the decided order included, as its request sent it (decisions before VAT have none)."""
    vat = (request.get("order") or {}).get("vat_amount")
    return None if vat is None else to_minor(Decimal(vat), currency)
