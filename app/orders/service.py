"""Order events from the ERP: each moves the order's reservation, under the customer's lock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from app.db import Database, WriteSession, utcnow
from app.errors import Conflict, FieldError, InvalidRequest, NotFound
from app.idempotency.service import Recorder, StoredResponse
from app.money import format_minor, to_minor
from app.orders import repository
from app.orders.models import Reservation, ReservationState
from app.orders.repository import ReservationRow
from app.orders.schemas import AmendedEvent, CancelledEvent, InvoicedEvent, OrderEvent, ReservationOut, ShippedEvent
from app.schemas import parse_amount


class CustomerLedger(Protocol):
    """What an order event needs of the customers' tables: the customer's row lock, and the invoice an invoiced
    order becomes. `app.customers.repository` is one; it is handed in (see app.services) rather than imported,
    because the customers' exposure counts the orders' reservations: customers imports orders, never the reverse.
    """

    async def lock_customers(self, session: WriteSession, customer_ids: Iterable[str]) -> Sequence[object]: ...

    async def insert_invoice_if_absent(self, session: WriteSession, values: dict[str, Any]) -> None: ...


class EventNotApplicable(Conflict):
    code, title = "event_not_applicable", "The event does not apply to the order's reservation as it stands"


class AmendmentNeedsDecision(Conflict):
    code, title = "amendment_needs_decision", "An order amended above the amount decided needs a new decision"


class OrderAlreadyInvoiced(Conflict):
    code, title = "order_already_invoiced", "The order is invoiced; its credit can no longer be decided"


class OrderAlreadyShipped(Conflict):
    code, title = "order_already_shipped", "The order is shipped; its credit keeps counting and is not decided again"


class OrderOfAnotherCustomer(Conflict):
    code, title = "order_of_another_customer", "The order id belongs to another customer"


def undecidable(
    order_id: str, customer_id: str, reservation: ReservationState | None, owners: dict[str, str]
) -> Conflict | None:
    """Why the order cannot be decided (again) for the customer, or None; `owners`: order id → customer.

    An order is one customer's: another customer's decision would release or take over its credit. Credit
    of shipped goods is used, and that of an invoiced order is a receivable: deciding either again would
    replace credit that keeps counting, and the exposure would fall while the goods are out."""
    owner = owners.get(order_id)
    if owner is not None and owner != customer_id:
        # The other customer stays unnamed: a caller learns no customer id from an order id.
        return OrderOfAnotherCustomer(f"order {order_id} is another customer's; give this order an id of its own")
    if reservation is not None and reservation.status == "invoiced":
        return OrderAlreadyInvoiced(f"order {order_id} was invoiced as {reservation.invoice_id}")
    if reservation is not None and reservation.status == "shipped":
        return OrderAlreadyShipped(f"order {order_id} is shipped; its credit counts until it is invoiced")
    return None


def effective_status(reservation: Reservation, now: datetime) -> str:
    """Expiry is applied when read: an active reservation past its date no longer counts."""
    if reservation.status == "active" and reservation.expires_at <= now:
        return "expired"
    return reservation.status


def reservation_out(reservation: Reservation, now: datetime) -> ReservationOut:
    status = effective_status(reservation, now)
    currency = reservation.currency
    counted = reservation.amount_minor if status in ("active", "shipped") else 0
    return ReservationOut(
        order_id=reservation.order_id,
        customer_id=reservation.customer_id,
        decision_id=reservation.decision_id,
        status=status,
        currency=currency,
        order_amount=format_minor(reservation.order_amount_minor, currency),
        approved_credit_amount=format_minor(reservation.approved_minor, currency),
        reserved_amount=format_minor(counted, currency),
        invoice_id=reservation.invoice_id,
        expires_at=reservation.expires_at,
        updated_at=reservation.updated_at,
    )


class OrderService:
    def __init__(self, database: Database, customers: CustomerLedger) -> None:
        self.database = database
        self.customers = customers

    async def reservation(self, order_id: str) -> ReservationOut:
        async with self.database.read() as session:
            reservation = await repository.get_reservation(session, order_id)
        if reservation is None:
            raise NotFound(f"no credit was decided for order {order_id}")
        return reservation_out(reservation, utcnow())

    async def apply(self, order_id: str, event: OrderEvent, recorder: Recorder) -> StoredResponse:
        async with self.database.transaction() as session:
            found = await repository.get_reservation(session, order_id)
            if found is None:
                raise NotFound(f"no credit was decided for order {order_id}")
            # The customer's lock first, as a decision takes it: events and decisions never interleave.
            await self.customers.lock_customers(session, [found.customer_id])
            reservation = await repository.get_reservation(session, order_id, lock=True)
            assert reservation is not None  # reservations are never deleted
            now = utcnow()
            status = effective_status(reservation, now)
            if isinstance(event, ShippedEvent):
                await self._shipped(session, reservation, status, now)
            elif isinstance(event, InvoicedEvent):
                await self._invoiced(session, reservation, status, event, now)
            elif isinstance(event, CancelledEvent):
                await self._cancelled(session, reservation, status, now)
            else:
                await self._amended(session, reservation, status, event, now)
            reservation = await repository.get_reservation(session, order_id)
            assert reservation is not None
            return await recorder.respond(session, 200, reservation_out(reservation, now))

    async def _shipped(self, session: WriteSession, reservation: Reservation, status: str, now: datetime) -> None:
        if status == "shipped":
            return
        _require(status, ("active",), "shipped")
        # Shipped goods are credit really used: the reservation no longer expires, it waits for the invoice.
        await repository.update_reservation(session, reservation.order_id, {"status": "shipped", "updated_at": now})

    async def _invoiced(
        self, session: WriteSession, reservation: Reservation, status: str, event: InvoicedEvent, now: datetime
    ) -> None:
        if status == "invoiced":
            if reservation.invoice_id != event.invoice_id:
                raise EventNotApplicable(f"order {reservation.order_id} was invoiced as {reservation.invoice_id}")
            return
        _require(status, ("active", "shipped", "expired"), "invoiced")
        issue_date = event.issue_date or now.date()
        due_date = event.due_date or issue_date + timedelta(days=reservation.payment_terms_days)
        if due_date < issue_date:
            message = "must not be before the issue date"
            raise InvalidRequest(message, errors=[FieldError(field="due_date", message=message)])
        # The reservation becomes the receivable: the same amount leaves `reserved` in this transaction.
        # An invoice the ERP already pushed is kept as it is, and one it pushes later replaces this row.
        await self.customers.insert_invoice_if_absent(
            session,
            {
                "customer_id": reservation.customer_id,
                "invoice_id": event.invoice_id,
                "currency": reservation.currency,
                "amount_minor": reservation.amount_minor,
                "open_amount_minor": reservation.amount_minor,
                "vat_minor": None
                if reservation.vat_minor is None
                else min(reservation.vat_minor, reservation.amount_minor),
                "issue_date": issue_date,
                "due_date": due_date,
                "order_id": reservation.order_id,
                "source": "order_event",
                "updated_at": now,
            },
        )
        await repository.update_reservation(
            session, reservation.order_id, {"status": "invoiced", "invoice_id": event.invoice_id, "updated_at": now}
        )

    async def _cancelled(self, session: WriteSession, reservation: Reservation, status: str, now: datetime) -> None:
        if status == "cancelled":
            return
        _require(status, ("active", "shipped", "expired", "released"), "cancelled")
        await repository.update_reservation(session, reservation.order_id, {"status": "cancelled", "updated_at": now})

    async def _amended(
        self, session: WriteSession, reservation: Reservation, status: str, event: AmendedEvent, now: datetime
    ) -> None:
        _require(status, ("active", "shipped"), "amended")
        currency = reservation.currency
        try:
            amount = to_minor(parse_amount(event.amount, currency), currency)
        except ValueError as exc:  # more decimals than the order's currency: the stored order refuses it
            raise Conflict(str(exc), errors=[FieldError(field="amount", message=str(exc))]) from None
        if amount > reservation.order_amount_minor:
            raise AmendmentNeedsDecision(
                f"the order was decided for {format_minor(reservation.order_amount_minor, currency)} {currency}; "
                "a higher amount needs a new decision (it replaces this reservation)"
            )
        reserved = min(reservation.approved_minor, amount)
        await repository.update_reservation(
            session, reservation.order_id, {"amount_minor": reserved, "updated_at": now}
        )


def _require(status: str, allowed: tuple[str, ...], event: str) -> None:
    if status not in allowed:
        raise EventNotApplicable(f"an order whose reservation is {status} cannot be {event}")


def credit_reservation(
    *,
    order_id: str,
    customer_id: str,
    decision_id: str,
    currency: str,
    order_amount_minor: int,
    approved_minor: int,
    payment_terms_days: int,
    replaces_existing: bool,
    at: datetime,
    days: int,
    vat_minor: int | None = None,
) -> ReservationRow | None:
    """The order's reservation for the credit a decision (or its review) approved, replacing what it had
    reserved; None when there is neither credit to reserve nor a reservation to replace."""
    if approved_minor == 0 and not replaces_existing:
        return None
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "decision_id": decision_id,
        "currency": currency,
        "order_amount_minor": order_amount_minor,
        "approved_minor": approved_minor,
        "amount_minor": approved_minor,
        "vat_minor": vat_minor,
        "payment_terms_days": payment_terms_days,
        "status": "active" if approved_minor > 0 else "released",
        "invoice_id": None,
        "expires_at": at + timedelta(days=days),
        "created_at": at,
        "updated_at": at,
    }


async def reserve_credit(session: WriteSession, reservation: ReservationRow | None) -> None:
    if reservation is not None and not await repository.replace_reservations(session, [reservation]):
        raise Conflict(f"order {reservation['order_id']} is reserved for another customer")
