"""Credit reserved per order: one row per order, replaced by a later decision, moved by order events."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

# Statuses that count towards exposure (an "active" one only until it expires).
COUNTED_STATUSES = ("active", "shipped")


class ReservationState(Protocol):
    """What deciding an order again reads of its reservation: the ORM object, or a Core row of its columns."""

    @property
    def order_id(self) -> str: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def invoice_id(self) -> str | None: ...


class Reservation(Base):
    __tablename__ = "reservations"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id"))
    decision_id: Mapped[str] = mapped_column(String(36))
    currency: Mapped[str] = mapped_column(String(3))
    order_amount_minor: Mapped[int] = mapped_column(BigInteger)  # the order amount decided on
    approved_minor: Mapped[int] = mapped_column(BigInteger)  # the credit the decision approved
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # what is reserved now (lower after an amendment)
    vat_minor: Mapped[int | None] = mapped_column(BigInteger)  # the VAT the order's amount includes, if sent
    payment_terms_days: Mapped[int]
    # active | shipped | invoiced | cancelled | released (a later decision approved no credit)
    status: Mapped[str] = mapped_column(String(16))
    invoice_id: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_reservations_customer_id_status", "customer_id", "status"),)
