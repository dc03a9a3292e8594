"""Customer master data, open invoices, payments and exchange rates: the ERP's view of what is owed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Customer(Base):
    """One customer. Its row is also the lock that serialises the customer's credit decisions."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    registration_number: Mapped[str | None] = mapped_column(String(32))
    segment: Mapped[str | None] = mapped_column(String(32))
    # The group's root customer; the group's limit lives on the root's row.
    parent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    limit_currency: Mapped[str | None] = mapped_column(String(3))
    manual_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    manual_limit_reason: Mapped[str | None] = mapped_column(String(500))
    manual_limit_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    group_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    # A temporary uplift on top of the standing limit, in limit_currency, for [starts_at, ends_at): it counts
    # only while a decision's time is inside that period, so it ends by itself.
    uplift_minor: Mapped[int | None] = mapped_column(BigInteger)
    uplift_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uplift_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uplift_reason: Mapped[str | None] = mapped_column(String(500))
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    block_reason: Mapped[str | None] = mapped_column(String(500))
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    # "erp" once the ERP pushed master data (it then wins over what orders say), else "order".
    master_data_from: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomerRecord(Protocol):
    """What deciding reads of a customer: its ORM object, or a Core row of the table's columns, which the decision
    path reads instead (no ORM instance to build for a row it only reads)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def country(self) -> str: ...
    @property
    def registration_number(self) -> str | None: ...
    @property
    def segment(self) -> str | None: ...
    @property
    def parent_id(self) -> str | None: ...
    @property
    def limit_currency(self) -> str | None: ...
    @property
    def manual_limit_minor(self) -> int | None: ...
    @property
    def manual_limit_reason(self) -> str | None: ...
    @property
    def manual_limit_expires_at(self) -> datetime | None: ...
    @property
    def group_limit_minor(self) -> int | None: ...
    @property
    def uplift_minor(self) -> int | None: ...
    @property
    def uplift_starts_at(self) -> datetime | None: ...
    @property
    def uplift_ends_at(self) -> datetime | None: ...
    @property
    def blocked(self) -> bool: ...
    @property
    def block_reason(self) -> str | None: ...
    @property
    def master_data_from(self) -> str: ...


class Invoice(Base):
    """An invoice as the ERP last reported it; `open_amount_minor` is what is still owed."""

    __tablename__ = "invoices"

    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    open_amount_minor: Mapped[int] = mapped_column(BigInteger)
    # The VAT the invoice's amount includes, when the ERP sends it (a cover may exclude VAT).
    vat_minor: Mapped[int | None] = mapped_column(BigInteger)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    order_id: Mapped[str | None] = mapped_column(String(64))
    # "erp" when pushed by the ERP, "order_event" when created from an order's invoiced event.
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_invoices_due_date", "due_date"),)


class Payment(Base):
    """A payment against one invoice; it lowered the invoice's open amount when it was recorded."""

    __tablename__ = "payments"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        ForeignKeyConstraint(
            ["customer_id", "invoice_id"],
            ["invoices.customer_id", "invoices.invoice_id"],
            name="fk_payments_invoice_invoices",
        ),
        Index("ix_payments_customer_id_paid_on", "customer_id", "paid_on"),
    )


class FxRate(Base):
    """One unit of `base` is worth `rate` units of `quote`, as the ERP last pushed it."""

    __tablename__ = "fx_rates"

    base: Mapped[str] = mapped_column(String(3), primary_key=True)
    quote: Mapped[str] = mapped_column(String(3), primary_key=True)
    # A decimal string: exact on every database, and rates are not money.
    rate: Mapped[str] = mapped_column(String(40))
    as_of: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CreditLimitChange(Base):
    """One change of a customer's limit, with its source, who made it and why: the customer's limit history.

    Monitoring writes the limit the policy gives from a new report; manual changes (console, ERP) and approved
    limit requests write the manual limit, the group limit or the temporary uplift they set."""

    __tablename__ = "credit_limit_history"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    old_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    new_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    # "monitor", "provider_notification", "erp", "console", "request"
    source: Mapped[str] = mapped_column(String(32))
    policy_version: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(64))  # the key id, or the process (monitor) that changed it
    reason: Mapped[str | None] = mapped_column(String(2000))
    request_id: Mapped[str | None] = mapped_column(String(36))  # the approved limit request, when one set it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_credit_limit_history_customer_id_created_at", "customer_id", "created_at"),)
