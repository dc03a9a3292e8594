"""Every query on stored decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Row,
    Select,
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import Customer
from app.db import WriteSession, core, table_of
from app.decisions.models import Decision, DecisionReason, OpenCase, Review
from app.decisions.query import Cursor, DecisionFilters

Columns = TypeVarTuple("Columns")


class DecisionTimings(TypedDict):
    provider_ms: float
    total_ms: float


class DecisionRow(TypedDict):
    """A decision's row as the decision path inserts it (the columns of `decisions`), and what the audit event
    and the API's answer are made of."""

    id: str
    order_id: str
    customer_id: str
    outcome: str
    currency: str
    amount_minor: int
    credit_limit_minor: int
    exposure_minor: int
    available_credit_minor: int
    approved_credit_minor: int
    prepayment_minor: int
    payment_terms_days: int
    risk_class: str
    segment: str
    policy_version: str
    report_provider: str | None
    report_source: str
    reasons: list[dict[str, Any]]
    report: dict[str, Any] | None
    request: dict[str, Any]
    inputs: dict[str, Any]
    api_key_id: str
    decided_at: datetime
    timings: DecisionTimings


# Built once, executed with the row as parameters (the decision path's hot statements).
INSERT_DECISION = insert(table_of(Decision))
INSERT_OPEN_CASE = insert(table_of(OpenCase))


def _granted_credit(customers: str, other_than: str) -> ColumnElement[bool]:
    """A semi-join: for each customer (in the list bound as `customers`), the first decision that granted credit
    on an order not in the list bound as `other_than` ends its search. The orders being decided are left out for
    every customer at once: an order is only ever one customer's."""
    return and_(
        Customer.id.in_(bindparam(customers, expanding=True)),
        exists().where(
            Decision.customer_id == Customer.id,
            Decision.approved_credit_minor > 0,
            Decision.order_id.not_in(bindparam(other_than, expanding=True)),
        ),
    )


CREDIT_HISTORY = select(Customer.id).where(_granted_credit("customer_ids", "order_ids"))
# The same question as a branch of the exposure statement (`customers.exposure_rows(also=...)`): a row of kind
# CREDIT_HISTORY_KIND per customer granted credit on an order other than those being decided (`exclude_orders`),
# so a decision reads its credit history and its exposure in one statement.
CREDIT_HISTORY_KIND = "credit_history"
CREDIT_HISTORY_ROWS = select(
    Customer.id, literal(CREDIT_HISTORY_KIND), cast(null(), String), null(), cast(null(), Date)
).where(_granted_credit("history_ids", "exclude_orders"))
# Every customer an order was decided for, each with its latest decision of the order (one, unless an order
# changed hands before orders were refused to other customers): read with the orders' reservations, as
# (kind, order_id, customer_id, at) rows of `orders.lock_reservation_states_with`.
ORDER_CUSTOMER_KIND = "order_customer"
ORDER_CUSTOMER_ROWS = (
    select(
        literal(ORDER_CUSTOMER_KIND, String).label("kind"),
        Decision.order_id,
        Decision.customer_id,
        func.max(Decision.decided_at).label("at"),
    )
    .where(Decision.order_id.in_(bindparam("order_ids", expanding=True)))
    .group_by(Decision.order_id, Decision.customer_id)
)


async def insert_decisions(session: WriteSession, decisions: Sequence[DecisionRow]) -> None:
    """The decisions' rows, and an open case for each that waits for a person.

    A trigger on `decisions` (migration 0015) adds each row's reason rows, one per distinct code, in the
    same statement: a later round's requests for longer terms read them."""
    if not decisions:
        return
    connection = await core(session)
    await connection.execute(INSERT_DECISION, list(decisions))
    # A case for a person: it waits in the review queue until settled.
    cases = [{"decision_id": v["id"], "decided_at": v["decided_at"]} for v in decisions if v["outcome"] == "review"]
    if cases:
        await connection.execute(INSERT_OPEN_CASE, cases)


# Open cases of earlier decisions for orders decided again: a later decision replaced them.
CLOSE_SUPERSEDED_CASES = delete(OpenCase).where(
    OpenCase.decision_id.in_(select(Decision.id).where(Decision.order_id.in_(bindparam("order_ids", expanding=True)))),
    OpenCase.decision_id.not_in(bindparam("latest_ids", expanding=True)),
)


async def close_superseded_cases(session: WriteSession, latest: dict[str, str]) -> None:
    """Takes out of the review queue the earlier decisions of orders (order id → its latest decision id)."""
    if latest:
        await (await core(session)).execute(
            CLOSE_SUPERSEDED_CASES, {"order_ids": sorted(latest), "latest_ids": sorted(latest.values())}
        )


async def get_decision(session: AsyncSession, decision_id: str) -> Decision | None:
    return await session.get(Decision, decision_id)


async def with_credit_history(
    session: AsyncSession, customer_ids: Sequence[str], excluding_orders: Sequence[str]
) -> set[str]:
    """Those of the customers that were granted credit on an order other than `excluding_orders`."""
    if not customer_ids:
        return set()
    parameters = {"customer_ids": sorted(set(customer_ids)), "order_ids": sorted(set(excluding_orders)) or [""]}
    return set((await (await core(session)).scalars(CREDIT_HISTORY, parameters)).all())


def order_customers(rows: Sequence[Any]) -> dict[str, str]:
    """The customer each order was last decided for, from ORDER_CUSTOMER_ROWS' rows; orders never decided are
    absent."""
    latest: dict[str, Any] = {}
    for row in rows:
        if row.kind == ORDER_CUSTOMER_KIND and (row.order_id not in latest or row.at > latest[row.order_id].at):
            latest[row.order_id] = row
    return {order_id: row.customer_id for order_id, row in latest.items()}


# The review that settled a decision (at most one review of a decision is final), joined to history queries:
# its outcome, reviewer and time, null while no review settled the decision.
SETTLED_ON = and_(Review.decision_id == Decision.id, Review.final.is_(True))
SETTLEMENT_COLUMNS = (
    Review.outcome.label("settled_outcome"),
    Review.reviewer.label("settled_by"),
    Review.reviewed_at.label("settled_at"),
)


def _with_settlement(query: Select[*Columns]) -> Select[*Columns]:
    return query.outerjoin(Review, SETTLED_ON)


async def settling_reviews(session: AsyncSession, decision_ids: Sequence[str]) -> dict[str, Review]:
    """The review that settled each of the decisions; unsettled decisions are absent."""
    if not decision_ids:
        return {}
    query = select(Review).where(Review.decision_id.in_(sorted(set(decision_ids))), Review.final.is_(True))
    return {review.decision_id: review for review in await session.scalars(query)}


def _conditions(filters: DecisionFilters) -> list[ColumnElement[bool]]:
    """Each filter is an equality or range on an indexed column (reason codes through decision_reasons)."""
    equalities = {
        Decision.customer_id: filters.customer_id,
        Decision.order_id: filters.order_id,
        Decision.outcome: filters.outcome,
        Decision.report_provider: filters.provider,
        Decision.policy_version: filters.policy_version,
        Decision.currency: filters.currency,
    }
    conditions = [column == value for column, value in equalities.items() if value is not None]
    if filters.decided_from is not None:
        conditions.append(Decision.decided_at >= filters.decided_from)
    if filters.decided_to is not None:
        conditions.append(Decision.decided_at < filters.decided_to)
    if filters.amount_min_minor is not None:
        conditions.append(Decision.amount_minor >= filters.amount_min_minor)
    if filters.amount_max_minor is not None:
        conditions.append(Decision.amount_minor <= filters.amount_max_minor)
    if filters.reason_code is not None:
        with_code = select(DecisionReason.decision_id).where(DecisionReason.code == filters.reason_code)
        conditions.append(Decision.id.in_(with_code))
    if filters.reviewed is not None:
        # The settling review is joined to every history query (`_with_settlement`).
        conditions.append(Review.id.is_not(None) if filters.reviewed else Review.id.is_(None))
    if filters.final_outcome is not None:
        conditions.append(func.coalesce(Review.outcome, Decision.outcome) == filters.final_outcome)
    return conditions


def _newest_first_after(query: Select[*Columns], cursor: Cursor | None, limit: int) -> Select[*Columns]:
    """Keyset paging on (decided_at, id), newest first: concurrent inserts never shift a page."""
    if cursor is not None:
        query = query.where(
            or_(
                Decision.decided_at < cursor.decided_at,
                and_(Decision.decided_at == cursor.decided_at, Decision.id < cursor.id),
            )
        )
    return query.order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(limit)


async def list_decisions(
    session: AsyncSession, filters: DecisionFilters, limit: int, cursor: Cursor | None
) -> list[Decision]:
    query = _newest_first_after(_with_settlement(select(Decision)).where(*_conditions(filters)), cursor, limit)
    return list((await session.scalars(query)).all())


# What a history page shows, without the request, inputs and report documents it does not: of those only
# the report's part of the inputs and the snapshot's fetch time, extracted by the database.
LISTED_COLUMNS = (
    *(column for column in Decision.__table__.columns if column.key not in ("request", "inputs", "report", "timings")),
    Decision.inputs["report"].label("report_inputs"),
    Decision.report["fetched_at"].as_string().label("report_fetched_at"),
    *SETTLEMENT_COLUMNS,
)


async def history_page(
    session: AsyncSession, filters: DecisionFilters, limit: int, cursor: Cursor | None
) -> Sequence[Row[Any]]:
    """`list_decisions` as rows of LISTED_COLUMNS: a page of the history API."""
    query = _newest_first_after(_with_settlement(select(*LISTED_COLUMNS)).where(*_conditions(filters)), cursor, limit)
    return (await session.execute(query)).all()


async def latest_limits(session: AsyncSession, customer_ids: list[str]) -> dict[str, Decision]:
    """Each customer's latest decision: the limit it was last decided with."""
    found: dict[str, Decision] = {}
    for start in range(0, len(customer_ids), 5000):
        chunk = customer_ids[start : start + 5000]
        latest = (
            select(Decision.customer_id, func.max(Decision.decided_at).label("decided_at"))
            .where(Decision.customer_id.in_(chunk))
            .group_by(Decision.customer_id)
            .subquery()
        )
        query = select(Decision).join(
            latest, and_(Decision.customer_id == latest.c.customer_id, Decision.decided_at == latest.c.decided_at)
        )
        for row in await session.scalars(query):
            found[row.customer_id] = row
    return found


EXPORT_COLUMNS = (
    Decision.id,
    Decision.decided_at,
    Decision.order_id,
    Decision.customer_id,
    Decision.outcome,
    Decision.currency,
    Decision.amount_minor,
    Decision.credit_limit_minor,
    Decision.exposure_minor,
    Decision.available_credit_minor,
    Decision.approved_credit_minor,
    Decision.prepayment_minor,
    Decision.payment_terms_days,
    Decision.risk_class,
    Decision.segment,
    Decision.policy_version,
    Decision.report_provider,
    Decision.report_source,
    Decision.reasons,
    Decision.api_key_id,
    *SETTLEMENT_COLUMNS,
)


async def export_page(
    session: AsyncSession, filters: DecisionFilters, limit: int, cursor: Cursor | None
) -> Sequence[Row[Any]]:
    """One chunk of an export: only the flat columns, never the stored request or report documents."""
    query = _newest_first_after(_with_settlement(select(*EXPORT_COLUMNS)).where(*_conditions(filters)), cursor, limit)
    rows: Sequence[Row[Any]] = (await session.execute(query)).all()
    return rows


async def oldest_decided_before(session: AsyncSession, cutoff: datetime, limit: int) -> Sequence[Row[str, datetime]]:
    """Up to `limit` (id, decided_at) of decisions taken strictly before `cutoff`, oldest first."""
    query = (
        select(Decision.id, Decision.decided_at)
        .where(Decision.decided_at < cutoff)
        .order_by(Decision.decided_at, Decision.id)
        .limit(limit)
    )
    return (await session.execute(query)).all()


async def delete_decisions(session: WriteSession, decision_ids: Sequence[str]) -> None:
    """Deletes the decisions and their reason rows (explicitly: SQLite cascades only with foreign_keys on)."""
    await session.execute(delete(DecisionReason).where(DecisionReason.decision_id.in_(decision_ids)))
    await session.execute(delete(Review).where(Review.decision_id.in_(decision_ids)))
    await session.execute(delete(OpenCase).where(OpenCase.decision_id.in_(decision_ids)))
    await session.execute(delete(Decision).where(Decision.id.in_(decision_ids)))


async def count_decided_before(session: AsyncSession, cutoff: datetime) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(Decision).where(Decision.decided_at < cutoff)) or 0
    )


# Requests for longer terms: decisions of a list of customers since a time that gave the reason, one statement.
LONGER_TERMS_REQUESTS = select(Decision.customer_id, Decision.order_id, Decision.decided_at).where(
    Decision.customer_id.in_(bindparam("customer_ids", expanding=True)),
    Decision.decided_at >= bindparam("since"),
    exists().where(DecisionReason.decision_id == Decision.id, DecisionReason.code == "LONGER_TERMS_REQUESTED"),
)


async def longer_terms_requests(session: AsyncSession, customer_ids: Sequence[str], since: datetime) -> Sequence[Any]:
    """(customer_id, order_id, decided_at) of each decision that asked for longer terms than its segment's."""
    if not customer_ids:
        return []
    return (await session.execute(LONGER_TERMS_REQUESTS, {"customer_ids": list(customer_ids), "since": since})).all()
