"""Payment arrangements, the invoices each covers and its instalments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class PaymentArrangement(Base):
    """A promise to pay or an instalment plan; `status` as last evaluated against the customer's payments."""

    __tablename__ = "payment_arrangements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # "promise" or "instalments"
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    agreed_on: Mapped[date] = mapped_column(Date)
    # "kept", "broken", "fulfilled" (evaluated) or "cancelled" (by a person, final).
    status: Mapped[str] = mapped_column(String(16))
    broken_on: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))  # the key id that recorded it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_payment_arrangements_customer_id_status", "customer_id", "status"),)


class ArrangementInvoice(Base):
    """An invoice an arrangement covers, with what it owed when the arrangement was agreed."""

    __tablename__ = "payment_arrangement_invoices"

    arrangement_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("payment_arrangements.id", name="fk_arrangement_invoices_arrangement"), primary_key=True
    )
    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    open_minor_agreed: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        ForeignKeyConstraint(
            ["customer_id", "invoice_id"],
            ["invoices.customer_id", "invoices.invoice_id"],
            name="fk_arrangement_invoices_invoice",
        ),
        Index("ix_payment_arrangement_invoices_customer_id_invoice_id", "customer_id", "invoice_id"),
    )


class ArrangementInstalment(Base):
    __tablename__ = "payment_arrangement_instalments"

    arrangement_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("payment_arrangements.id", name="fk_arrangement_instalments_arrangement"),
        primary_key=True,
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)  # from 1, by due date
    due_date: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
