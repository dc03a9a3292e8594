"""Every query on reservations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, TypedDict

from sqlalchemy import Select, String, bindparam, cast, literal, null, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import WriteSession, core, dialect_name, insert_for, table_of
from app.orders.models import COUNTED_STATUSES, Reservation, ReservationState

RESERVATIONS = table_of(Reservation)


_RESERVATION = (
    select(Reservation).where(Reservation.order_id == bindparam("order_id")).execution_options(populate_existing=True)
)
_LOCKED_RESERVATION = _RESERVATION.with_for_update()


async def get_reservation(session: AsyncSession, order_id: str, *, lock: bool = False) -> Reservation | None:
    query = _LOCKED_RESERVATION if lock else _RESERVATION
    return (await session.scalars(query, {"order_id": order_id})).one_or_none()


_LOCKED_RESERVATION_ROWS = (
    select(*RESERVATIONS.c)
    .where(RESERVATIONS.c.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(RESERVATIONS.c.order_id)
    .with_for_update()
)


# The kind of a reservation's row in `lock_reservation_states_with`'s answer.
RESERVATION_KIND = "reservation"


async def lock_reservation_states(session: WriteSession, order_ids: Sequence[str]) -> dict[str, ReservationState]:
    """The orders' reservations by order id, locked in order-id order, as Core rows (the decision path only
    reads them)."""
    if not order_ids:
        return {}
    parameters = {"order_ids": sorted(set(order_ids))}
    rows: Sequence[Any] = (await (await core(session)).execute(_LOCKED_RESERVATION_ROWS, parameters)).all()
    return {row.order_id: row for row in rows}


async def lock_reservation_states_with(
    session: WriteSession, order_ids: Sequence[str], also: Select[*tuple[Any, ...]]
) -> tuple[dict[str, ReservationState], list[Any]]:
    """`lock_reservation_states`, and in the same statement the rows of `also`, a caller's query of the same orders.

    `also` selects (kind, order_id, customer_id, at) with `order_ids` as its expanding parameter; its rows come
    back as rows of `kind`, `order_id`, `customer_id` and `at` (a time). A decision asks this way whom its orders
    were decided for, and saves a round trip."""
    if not order_ids:
        return {}, []
    parameters = {"order_ids": sorted(set(order_ids))}
    rows: Sequence[Any] = (await (await core(session)).execute(_locked_with(also), parameters)).all()
    states = {row.order_id: row for row in rows if row.kind == RESERVATION_KIND}
    return states, [row for row in rows if row.kind != RESERVATION_KIND]


@lru_cache(maxsize=4)
def _locked_with(also: Select[*tuple[Any, ...]]) -> Any:
    """The reservations locked in a CTE (PostgreSQL allows FOR UPDATE there, not beside UNION), then `also`'s
    rows, padded to the reservations' columns with typed NULLs."""
    locked = _LOCKED_RESERVATION_ROWS.cte("locked_reservations")
    theirs = also.subquery()
    kind, order_id, customer_id, at = theirs.c
    padding = [cast(null(), column.type) for column in list(RESERVATIONS.c)[2:]]
    return union_all(
        select(literal(RESERVATION_KIND, String).label("kind"), *locked.c, cast(null(), at.type).label("at")),
        select(kind, order_id, customer_id, *padding, at),
    )


class ReservationRow(TypedDict):
    """An order's reservation as a decision or a review writes it (the columns of `reservations`)."""

    order_id: str
    customer_id: str
    decision_id: str
    currency: str
    order_amount_minor: int
    approved_minor: int
    amount_minor: int
    vat_minor: int | None
    payment_terms_days: int
    status: str
    invoice_id: str | None
    expires_at: datetime
    created_at: datetime
    updated_at: datetime


async def replace_reservations(session: WriteSession, rows: Sequence[ReservationRow]) -> set[str]:
    """Each order's one reservation: a later decision of the same customer overwrites it, never adds a
    second. Answers the orders written: one whose reservation is another customer's is left as it is (a
    decision for it committed by another transaction since this one read the order's customer)."""
    if not rows:
        return set()
    changed = tuple(name for name in rows[0] if name not in ("order_id", "created_at"))
    written = await (await core(session)).execute(_replace_statement(dialect_name(session), changed), list(rows))
    return set(written.scalars().all())


@lru_cache(maxsize=4)
def _replace_statement(dialect: str, changed: tuple[str, ...]) -> Any:
    statement = insert_for(dialect)(RESERVATIONS)
    return statement.on_conflict_do_update(
        index_elements=["order_id"],
        set_={name: statement.excluded[name] for name in changed},
        where=RESERVATIONS.c.customer_id == statement.excluded.customer_id,
    ).returning(RESERVATIONS.c.order_id)


async def update_reservation(session: WriteSession, order_id: str, values: dict[str, Any]) -> None:
    await session.execute(update(Reservation).where(Reservation.order_id == order_id).values(**values))


async def mark_invoiced(session: WriteSession, links: Sequence[dict[str, Any]], now: datetime) -> None:
    """Invoices the ERP pushed with an order id end that order's reservation: the invoice now counts."""
    if not links:
        return
    statement = (
        update(Reservation)
        .where(
            Reservation.order_id == bindparam("link_order_id"),
            Reservation.customer_id == bindparam("link_customer_id"),
            # Not IN (...): an expanding list cannot take part in an executemany.
            or_(*(Reservation.status == status for status in COUNTED_STATUSES)),
        )
        .values(status="invoiced", invoice_id=bindparam("link_invoice_id"), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    connection = await session.connection()
    await connection.execute(statement, list(links))
