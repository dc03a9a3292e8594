"""Every query on limit requests and their reviews."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import CreditLimitChange, Customer, Invoice, Payment
from app.db import WriteSession
from app.decisions.models import Decision, DecisionReason
from app.limits.models import LimitRequest, LimitRequestReview
from app.monitoring.models import CustomerCreditState


async def add_request(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(LimitRequest).values(**values))


async def get_request(session: AsyncSession, request_id: str) -> LimitRequest | None:
    return await session.get(LimitRequest, request_id, populate_existing=True)


async def list_requests(
    session: AsyncSession,
    *,
    status: str | None,
    customer_id: str | None,
    now: datetime,
    limit: int,
) -> Sequence[LimitRequest]:
    """Newest first; `expired` is a pending request past its valid_until, `pending` one still open."""
    query = select(LimitRequest)
    if customer_id is not None:
        query = query.where(LimitRequest.customer_id == customer_id)
    if status == "pending":
        query = query.where(LimitRequest.status == "pending", LimitRequest.valid_until > now)
    elif status == "expired":
        query = query.where(LimitRequest.status == "pending", LimitRequest.valid_until <= now)
    elif status is not None:
        query = query.where(LimitRequest.status == status)
    query = query.order_by(LimitRequest.created_at.desc(), LimitRequest.id.desc()).limit(limit)
    return (await session.scalars(query)).all()


async def pending_for(session: AsyncSession, customer_ids: Sequence[str], now: datetime) -> set[str]:
    """Which of these customers have a limit request still open."""
    if not customer_ids:
        return set()
    query = select(LimitRequest.customer_id).where(
        LimitRequest.customer_id.in_(customer_ids), LimitRequest.status == "pending", LimitRequest.valid_until > now
    )
    return set((await session.scalars(query)).all())


async def reviews_of(session: AsyncSession, request_ids: Sequence[str]) -> dict[str, list[LimitRequestReview]]:
    found: dict[str, list[LimitRequestReview]] = defaultdict(list)
    if not request_ids:
        return found
    query = (
        select(LimitRequestReview)
        .where(LimitRequestReview.request_id.in_(request_ids))
        .order_by(LimitRequestReview.request_id, LimitRequestReview.step)
    )
    for review in await session.scalars(query):
        found[review.request_id].append(review)
    return found


async def add_review(session: WriteSession, values: dict[str, Any]) -> None:
    """The (request, step) primary key refuses a second reviewer taking the same step at the same moment."""
    await session.execute(insert(LimitRequestReview).values(**values))


async def settle(session: WriteSession, request_id: str, status: str, now: datetime) -> bool:
    """Move a pending request to its final status; False when it was no longer pending (another reviewer won)."""
    result = await session.execute(
        update(LimitRequest)
        .where(LimitRequest.id == request_id, LimitRequest.status == "pending")
        .values(status=status, decided_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def review_candidates(session: AsyncSession) -> Sequence[Customer]:
    """Customers whose limit is looked after: a manual or group limit, or a decision taken for them."""
    decided = select(Decision.customer_id).distinct().scalar_subquery()
    query = (
        select(Customer)
        .where(
            or_(
                Customer.manual_limit_minor.is_not(None),
                Customer.group_limit_minor.is_not(None),
                Customer.id.in_(decided),
            )
        )
        .order_by(Customer.id)
    )
    return (await session.scalars(query)).all()


async def last_limit_changes(session: AsyncSession) -> dict[str, datetime]:
    """Each customer's latest limit-history row (a change or a confirmation): when its limit was last looked at."""
    query = select(CreditLimitChange.customer_id, func.max(CreditLimitChange.created_at)).group_by(
        CreditLimitChange.customer_id
    )
    return {str(customer_id): at for customer_id, at in (await session.execute(query)).all()}


async def risk_classes(session: AsyncSession) -> dict[str, str]:
    """Each customer's risk class as last seen: monitoring's state, else its latest decision's."""
    latest = (
        select(Decision.customer_id, func.max(Decision.decided_at).label("decided_at"))
        .group_by(Decision.customer_id)
        .subquery()
    )
    query = select(Decision.customer_id, Decision.risk_class).join(
        latest, and_(Decision.customer_id == latest.c.customer_id, Decision.decided_at == latest.c.decided_at)
    )
    found = {str(customer_id): str(risk_class) for customer_id, risk_class in (await session.execute(query)).all()}
    monitored = select(CustomerCreditState.customer_id, CustomerCreditState.risk_class).where(
        CustomerCreditState.risk_class.is_not(None)
    )
    for customer_id, risk_class in (await session.execute(monitored)).all():
        found[str(customer_id)] = str(risk_class)
    return found


async def held_back(session: AsyncSession, since: datetime) -> list[Decision]:
    """Decisions since `since` that sent an order to prepayment or review for exceeding the available credit."""
    query = (
        select(Decision)
        .join(DecisionReason, DecisionReason.decision_id == Decision.id)
        .where(
            DecisionReason.code == "EXCEEDS_AVAILABLE_CREDIT",
            DecisionReason.decided_at >= since,
            Decision.outcome.in_(("prepayment", "review")),
        )
        .order_by(Decision.customer_id, Decision.decided_at)
    )
    return list((await session.scalars(query)).all())


async def decisions_since(session: AsyncSession, customer_ids: Sequence[str], since: datetime) -> list[Decision]:
    """The customers' decisions since `since`, oldest first."""
    if not customer_ids:
        return []
    query = (
        select(Decision)
        .where(Decision.customer_id.in_(customer_ids), Decision.decided_at >= since)
        .order_by(Decision.customer_id, Decision.decided_at, Decision.id)
    )
    return list((await session.scalars(query)).all())


async def overdue_customers(session: AsyncSession, customer_ids: Sequence[str], before: date) -> set[str]:
    """Which of the customers owe an invoice that fell due before `before`."""
    if not customer_ids:
        return set()
    query = select(Invoice.customer_id).where(
        Invoice.customer_id.in_(customer_ids), Invoice.open_amount_minor > 0, Invoice.due_date < before
    )
    return set((await session.scalars(query)).all())


async def credit_states(session: AsyncSession, customer_ids: Sequence[str]) -> dict[str, CustomerCreditState]:
    if not customer_ids:
        return {}
    query = select(CustomerCreditState).where(CustomerCreditState.customer_id.in_(customer_ids))
    return {row.customer_id: row for row in await session.scalars(query)}


async def limit_held_decisions(session: AsyncSession, start: datetime, end: datetime) -> list[Decision]:
    """Decisions in [start, end) with a limit reason (EXCEEDS_AVAILABLE_CREDIT or GROUP_LIMIT), oldest first."""
    held = (
        select(DecisionReason.decision_id)
        .where(
            DecisionReason.code.in_(("EXCEEDS_AVAILABLE_CREDIT", "GROUP_LIMIT")),
            DecisionReason.decided_at >= start,
            DecisionReason.decided_at < end,
        )
        .scalar_subquery()
    )
    query = select(Decision).where(Decision.id.in_(held)).order_by(Decision.decided_at, Decision.id)
    return list((await session.scalars(query)).all())


async def latest_decision_ids(session: AsyncSession, order_ids: Sequence[str]) -> set[str]:
    """The latest decision of each order: an order decided again counts once, as last decided."""
    if not order_ids:
        return set()
    latest = (
        select(Decision.order_id, func.max(Decision.decided_at).label("decided_at"))
        .where(Decision.order_id.in_(order_ids))
        .group_by(Decision.order_id)
        .subquery()
    )
    query = select(Decision.id).join(
        latest, and_(Decision.order_id == latest.c.order_id, Decision.decided_at == latest.c.decided_at)
    )
    return set((await session.scalars(query)).all())


async def invoices_of_orders(session: AsyncSession, order_ids: Sequence[str]) -> list[Invoice]:
    if not order_ids:
        return []
    return list((await session.scalars(select(Invoice).where(Invoice.order_id.in_(order_ids)))).all())


async def late_payers_since(session: AsyncSession, customer_ids: Sequence[str], since: date) -> dict[str, int]:
    """Per customer, invoices paid after their due date by payments from `since` on."""
    if not customer_ids:
        return {}
    query = (
        select(Payment.customer_id, func.count(func.distinct(Payment.invoice_id)))
        .join(Invoice, and_(Invoice.customer_id == Payment.customer_id, Invoice.invoice_id == Payment.invoice_id))
        .where(Payment.customer_id.in_(customer_ids), Payment.paid_on >= since, Payment.paid_on > Invoice.due_date)
        .group_by(Payment.customer_id)
    )
    return {str(customer_id): int(count) for customer_id, count in (await session.execute(query)).all()}
