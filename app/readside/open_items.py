"""A customer's invoices (paged) and open items: what an ERP reconciles against, the same rows the credit
file's exposure sums."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Literal

import orjson
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select

from app.active_policy import ActivePolicy
from app.customers import repository
from app.customers.exposure import ExposureSums, in_currency, sums_by_customer
from app.customers.models import Invoice
from app.customers.schemas import InvoiceOut
from app.customers.service import invoice_out
from app.db import Database, utcnow
from app.errors import InvalidCursor, NotFound
from app.orders.models import Reservation
from app.orders.schemas import ReservationOut
from app.orders.service import reservation_out
from app.schemas import Money

InvoiceStatus = Literal["open", "paid", "all"]


class InvoicePage(BaseModel):
    items: list[InvoiceOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class OpenItems(BaseModel):
    customer_id: str
    currency: str = Field(description="The totals' currency: the customer's limit currency (else the policy's).")
    as_of: datetime
    invoices: list[InvoiceOut] = Field(description="Invoices with an open amount, oldest due date first.")
    reservations: list[ReservationOut] = Field(description="Credit reserved for orders not invoiced yet.")
    open_receivables: Money = Field(description="The open invoices' sum, as the credit file's exposure has it.")
    reserved: Money
    total: Money
    unpriced_currencies: list[str] = Field(description="Currencies no pushed rate converts: left out of totals.")


class OpenItemsService:
    def __init__(self, database: Database, active_policy: ActivePolicy) -> None:
        self.database = database
        self.active_policy = active_policy

    async def invoices(self, customer_id: str, status: InvoiceStatus, limit: int, cursor: str | None) -> InvoicePage:
        """By due date, then invoice id (keyset: invoices pushed meanwhile never shift a page)."""
        position = decode_position(cursor) if cursor else None
        now = utcnow()
        query = select(Invoice).where(Invoice.customer_id == customer_id)
        if status == "open":
            query = query.where(Invoice.open_amount_minor > 0)
        elif status == "paid":
            query = query.where(Invoice.open_amount_minor == 0)
        if position is not None:
            due, invoice_id = position
            query = query.where(
                or_(Invoice.due_date > due, and_(Invoice.due_date == due, Invoice.invoice_id > invoice_id))
            )
        query = query.order_by(Invoice.due_date, Invoice.invoice_id).limit(limit + 1)
        async with self.database.read() as session:
            if await repository.get_customer(session, customer_id) is None:
                raise NotFound(f"no customer {customer_id}")
            rows = list((await session.scalars(query)).all())
        page = rows[:limit]
        next_cursor = encode_position(page[-1].due_date, page[-1].invoice_id) if len(rows) > limit else None
        return InvoicePage(items=[invoice_out(row, now) for row in page], next_cursor=next_cursor)

    async def open_items(self, customer_id: str) -> OpenItems:
        policy = await self.active_policy()
        now = utcnow()
        today = now.date()
        async with self.database.read() as session:
            customer = await repository.get_customer(session, customer_id)
            if customer is None:
                raise NotFound(f"no customer {customer_id}")
            invoices = (
                await session.scalars(
                    select(Invoice)
                    .where(Invoice.customer_id == customer_id, Invoice.open_amount_minor > 0)
                    .order_by(Invoice.due_date, Invoice.invoice_id)
                )
            ).all()
            reservations = (
                await session.scalars(
                    select(Reservation)
                    .where(Reservation.customer_id == customer_id, Reservation.status.in_(("active", "shipped")))
                    .order_by(Reservation.created_at, Reservation.order_id)
                )
            ).all()
            rows = await repository.exposure_rows(session, [customer_id], today=today, now=now)
            rates = await repository.rate_table(session)
        currency = customer.limit_currency or policy.currency
        exposure = in_currency(sums_by_customer(rows).get(customer_id, ExposureSums()), currency, rates, today)
        # An active reservation past its expiry no longer counts (`effective_status`).
        counted = [out for out in (reservation_out(row, now) for row in reservations) if _counts(out)]
        return OpenItems(
            customer_id=customer_id,
            currency=currency,
            as_of=now,
            invoices=[invoice_out(row, now) for row in invoices],
            reservations=counted,
            open_receivables=str(exposure.open_receivables),
            reserved=str(exposure.reserved),
            total=str(exposure.total),
            unpriced_currencies=list(exposure.unpriced_currencies),
        )


def _counts(out: ReservationOut) -> bool:
    return out.status in ("active", "shipped")


def encode_position(due_date: date, invoice_id: str) -> str:
    """A page's position: the due date and id of the invoice before it."""
    raw = orjson.dumps([due_date.isoformat(), invoice_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(token: str) -> tuple[date, str]:
    try:
        due, invoice_id = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(due, str) or not isinstance(invoice_id, str):
            raise ValueError("not a position")
        return date.fromisoformat(due), invoice_id
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidCursor() from None
