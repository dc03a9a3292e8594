"""Every query on payment arrangements, their invoices and instalments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.arrangements.models import ArrangementInstalment, ArrangementInvoice, PaymentArrangement
from app.chunks import chunks
from app.customers.models import Invoice, Payment
from app.db import WriteSession

# Arrangements still judged against payments: kept ones, and broken ones (a later payment dated in time
# can still mend them). Fulfilled and cancelled ones are final.
OPEN_STATUSES = ("kept", "broken")


async def insert_arrangement(
    session: WriteSession,
    arrangement: dict[str, Any],
    invoices: list[dict[str, Any]],
    instalments: list[dict[str, Any]],
) -> None:
    await session.execute(insert(PaymentArrangement).values(**arrangement))
    await session.execute(insert(ArrangementInvoice), invoices)
    await session.execute(insert(ArrangementInstalment), instalments)


async def get_arrangement(
    session: AsyncSession, customer_id: str, arrangement_id: str, *, lock: bool = False
) -> PaymentArrangement | None:
    query = select(PaymentArrangement).where(
        PaymentArrangement.id == arrangement_id, PaymentArrangement.customer_id == customer_id
    )
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()


async def arrangements_of(session: AsyncSession, customer_id: str, limit: int) -> list[PaymentArrangement]:
    query = (
        select(PaymentArrangement)
        .where(PaymentArrangement.customer_id == customer_id)
        .order_by(PaymentArrangement.created_at.desc(), PaymentArrangement.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def open_arrangements(
    session: AsyncSession, customer_ids: Sequence[str] | None, *, lock: bool = False
) -> list[PaymentArrangement]:
    """Kept and broken arrangements of the customers (None: of every customer), in customer and id order.

    `lock` holds their rows to the commit, taken in id order, so two transactions judging the same
    arrangement at once record its change once."""
    query = select(PaymentArrangement).where(PaymentArrangement.status.in_(OPEN_STATUSES))
    if lock:
        query = query.order_by(PaymentArrangement.id).with_for_update().execution_options(populate_existing=True)
    if customer_ids is None:
        return list((await session.scalars(query.order_by(PaymentArrangement.id))).all())
    found: list[PaymentArrangement] = []
    for chunk in chunks(list(customer_ids)):
        found.extend((await session.scalars(query.where(PaymentArrangement.customer_id.in_(chunk)))).all())
    return sorted(found, key=lambda row: (row.customer_id, row.id))


async def invoices_under_open(session: AsyncSession, customer_id: str, invoice_ids: Sequence[str]) -> dict[str, str]:
    """Which of the invoices an open (kept or broken) arrangement covers: invoice id → arrangement id."""
    query = (
        select(ArrangementInvoice.invoice_id, ArrangementInvoice.arrangement_id)
        .join(PaymentArrangement, PaymentArrangement.id == ArrangementInvoice.arrangement_id)
        .where(
            ArrangementInvoice.customer_id == customer_id,
            ArrangementInvoice.invoice_id.in_(list(invoice_ids)),
            PaymentArrangement.status.in_(OPEN_STATUSES),
        )
    )
    return {row.invoice_id: row.arrangement_id for row in await session.execute(query)}


async def invoices_of(session: AsyncSession, customer_id: str, invoice_ids: Sequence[str]) -> dict[str, Invoice]:
    query = select(Invoice).where(Invoice.customer_id == customer_id, Invoice.invoice_id.in_(list(invoice_ids)))
    return {row.invoice_id: row for row in (await session.scalars(query)).all()}


async def lines_of(session: AsyncSession, arrangement_ids: Sequence[str]) -> tuple[Sequence[Any], Sequence[Any]]:
    """The arrangements' instalments, and their invoices with each invoice's payments (one row per payment).

    Instalments: (arrangement_id, number, due_date, amount_minor). Invoices: (arrangement_id, invoice_id,
    open_minor_agreed, currency, open_amount_minor, due_date, payment_id, payment_minor, paid_on)."""
    instalments: list[Any] = []
    invoices: list[Any] = []
    for chunk in chunks(list(arrangement_ids)):
        instalments.extend(
            await session.execute(
                select(
                    ArrangementInstalment.arrangement_id,
                    ArrangementInstalment.number,
                    ArrangementInstalment.due_date,
                    ArrangementInstalment.amount_minor,
                )
                .where(ArrangementInstalment.arrangement_id.in_(chunk))
                .order_by(ArrangementInstalment.arrangement_id, ArrangementInstalment.number)
            )
        )
        invoices.extend(
            await session.execute(
                select(
                    ArrangementInvoice.arrangement_id,
                    ArrangementInvoice.invoice_id,
                    ArrangementInvoice.open_minor_agreed,
                    Invoice.currency,
                    Invoice.open_amount_minor,
                    Invoice.due_date,
                    Payment.payment_id,
                    Payment.amount_minor.label("payment_minor"),
                    Payment.paid_on,
                )
                .join(
                    Invoice,
                    and_(
                        Invoice.customer_id == ArrangementInvoice.customer_id,
                        Invoice.invoice_id == ArrangementInvoice.invoice_id,
                    ),
                )
                .outerjoin(
                    Payment,
                    and_(Payment.customer_id == Invoice.customer_id, Payment.invoice_id == Invoice.invoice_id),
                )
                .where(ArrangementInvoice.arrangement_id.in_(chunk))
                .order_by(ArrangementInvoice.arrangement_id, ArrangementInvoice.invoice_id)
            )
        )
    return instalments, invoices


async def overdue_invoices(session: AsyncSession, customer_ids: Sequence[str], today: date) -> Sequence[Any]:
    """(customer_id, invoice_id, currency, open_amount_minor, due_date) of every overdue invoice."""
    rows: list[Any] = []
    for chunk in chunks(list(customer_ids)):
        query = select(
            Invoice.customer_id, Invoice.invoice_id, Invoice.currency, Invoice.open_amount_minor, Invoice.due_date
        ).where(Invoice.customer_id.in_(chunk), Invoice.open_amount_minor > 0, Invoice.due_date < today)
        rows.extend(await session.execute(query))
    return rows


async def set_status(
    session: WriteSession, arrangement_id: str, status: str, broken_on: date | None, at: datetime
) -> None:
    await session.execute(
        update(PaymentArrangement)
        .where(PaymentArrangement.id == arrangement_id)
        .values(status=status, broken_on=broken_on, status_changed_at=at)
    )


async def cancel(session: WriteSession, arrangement_id: str, actor: str, reason: str, at: datetime) -> None:
    await session.execute(
        update(PaymentArrangement)
        .where(PaymentArrangement.id == arrangement_id)
        .values(status="cancelled", cancelled_by=actor, cancel_reason=reason, status_changed_at=at)
    )


async def payments_from(
    session: AsyncSession, customer_id: str, invoice_ids: Sequence[str], since: date
) -> dict[str, int]:
    """What was paid on each invoice from `since` on, by payment date: invoice id → minor units."""
    query = select(Payment.invoice_id, Payment.amount_minor).where(
        Payment.customer_id == customer_id, Payment.invoice_id.in_(list(invoice_ids)), Payment.paid_on >= since
    )
    paid: dict[str, int] = {}
    for invoice_id, amount in await session.execute(query):
        paid[invoice_id] = paid.get(invoice_id, 0) + int(amount)
    return paid
