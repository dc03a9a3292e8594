"""Every query on the cover tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.chunks import chunks
from app.customers.models import Customer, Invoice
from app.db import WriteSession, core, table_of
from app.insurance.models import Cover, CoverRecord, CoverVersion, InsurerRequest, OverdueReport


async def get_cover(session: AsyncSession, customer_id: str, *, lock: bool = False) -> Cover | None:
    statement = select(Cover).where(Cover.customer_id == customer_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def covers_of(session: AsyncSession, customer_ids: Sequence[str] | None) -> dict[str, Cover]:
    """The covers of the customers (all covers with None), by customer id."""
    if customer_ids is None:
        return {cover.customer_id: cover for cover in await session.scalars(select(Cover))}
    found: dict[str, Cover] = {}
    for piece in chunks(sorted(set(customer_ids))):
        for cover in await session.scalars(select(Cover).where(Cover.customer_id.in_(piece))):
            found[cover.customer_id] = cover
    return found


COVERS = table_of(Cover)
# The decision path's read: Core rows of every column, built once (see CoverRecord).
COVER_ROWS = select(*COVERS.c).where(COVERS.c.customer_id.in_(bindparam("ids", expanding=True)))


async def cover_records(session: AsyncSession, customer_ids: Sequence[str]) -> dict[str, CoverRecord]:
    """`covers_of` as Core rows, for the customers being decided."""
    found: dict[str, CoverRecord] = {}
    connection = await core(session)
    for piece in chunks(sorted(set(customer_ids))):
        rows: Sequence[Any] = (await connection.execute(COVER_ROWS, {"ids": list(piece)})).all()
        found.update((row.customer_id, row) for row in rows)
    return found


def in_force(today: date) -> Any:
    """The condition of a cover in force on `today`: active and within its validity."""
    return and_(
        Cover.status == "active",
        Cover.valid_from <= today,
        or_(Cover.valid_to.is_(None), Cover.valid_to >= today),
    )


async def save_cover(session: WriteSession, values: dict[str, Any], *, exists: bool) -> None:
    if exists:
        cover = await session.get(Cover, values["customer_id"])
        assert cover is not None
        for name, value in values.items():
            setattr(cover, name, value)
    else:
        session.add(Cover(**values))
    await session.flush()


async def insert_version(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(CoverVersion), [values])


async def versions(session: AsyncSession, customer_id: str, limit: int) -> Sequence[CoverVersion]:
    statement = (
        select(CoverVersion)
        .where(CoverVersion.customer_id == customer_id)
        .order_by(CoverVersion.version.desc())
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def customers_by_registration(session: AsyncSession, countries: Sequence[str]) -> Sequence[tuple[str, str, str]]:
    """(id, country, registration number) of every customer in the countries with a registration number."""
    statement = select(Customer.id, Customer.country, Customer.registration_number).where(
        Customer.country.in_(sorted(set(countries))), Customer.registration_number.is_not(None)
    )
    return [(row.id, row.country, row.registration_number) for row in await session.execute(statement)]


async def csv_covers_except(session: AsyncSession, keep: set[str]) -> Sequence[Cover]:
    """Covers imported from CSV, still active, of customers not in `keep`: a full list no longer has them."""
    statement = select(Cover).where(Cover.source == "csv", Cover.status == "active")
    return [cover for cover in await session.scalars(statement) if cover.customer_id not in keep]


async def reportable_invoices(session: AsyncSession, today: date, entered_by: date) -> Sequence[Any]:
    """Open invoices due on or before `entered_by` of customers with a cover in force, with their report if any."""
    statement = (
        select(
            Invoice.customer_id,
            Invoice.invoice_id,
            Invoice.currency,
            Invoice.open_amount_minor,
            Invoice.due_date,
            OverdueReport.reported_on,
            OverdueReport.reference,
            OverdueReport.recorded_by,
        )
        .join(Cover, Cover.customer_id == Invoice.customer_id)
        .outerjoin(
            OverdueReport,
            (OverdueReport.customer_id == Invoice.customer_id) & (OverdueReport.invoice_id == Invoice.invoice_id),
        )
        .where(Invoice.open_amount_minor > 0, Invoice.due_date <= entered_by, in_force(today))
    )
    return (await session.execute(statement)).all()


async def reported(session: AsyncSession) -> Sequence[OverdueReport]:
    return (await session.scalars(select(OverdueReport))).all()


async def get_report(session: AsyncSession, customer_id: str, invoice_id: str) -> OverdueReport | None:
    return await session.get(OverdueReport, (customer_id, invoice_id))


async def insert_report(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(OverdueReport), [values])


async def invoice_exists(session: AsyncSession, customer_id: str, invoice_id: str) -> bool:
    return await session.get(Invoice, (customer_id, invoice_id)) is not None


async def insert_limit_request(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(InsurerRequest), [values])


async def get_limit_request(session: AsyncSession, request_id: str, *, lock: bool = False) -> InsurerRequest | None:
    statement = select(InsurerRequest).where(InsurerRequest.id == request_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def limit_requests_of(session: AsyncSession, customer_id: str, limit: int) -> Sequence[InsurerRequest]:
    statement = (
        select(InsurerRequest)
        .where(InsurerRequest.customer_id == customer_id)
        .order_by(InsurerRequest.requested_at.desc(), InsurerRequest.id)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def pending_limit_requests(session: AsyncSession, limit: int) -> Sequence[InsurerRequest]:
    """The pending requests polled longest ago (never polled first)."""
    statement = (
        select(InsurerRequest)
        .where(InsurerRequest.status == "pending")
        .order_by(InsurerRequest.polled_at.is_not(None), InsurerRequest.polled_at, InsurerRequest.requested_at)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()
