"""Cover tables: a customer's cover in force, and every version of it ever written."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class CoverRecord(Protocol):
    """What deciding reads of a cover: its ORM object, or a Core row of the table's columns (the decision path
    reads rows: no ORM instance to build for a row it only reads)."""

    @property
    def customer_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def valid_from(self) -> date: ...
    @property
    def valid_to(self) -> date | None: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def coverage_basis_points(self) -> int: ...
    @property
    def excludes_vat(self) -> bool: ...
    @property
    def insurer(self) -> str | None: ...
    @property
    def buyer_reference(self) -> str: ...


class Cover(Base):
    """A credit insurer's cover on one customer (a buyer; a group's root for the group), as it stands now."""

    __tablename__ = "covers"

    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id"), primary_key=True)
    insurer: Mapped[str | None] = mapped_column(String(64))
    policy_number: Mapped[str | None] = mapped_column(String(64))
    buyer_reference: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Share of a loss the insurer pays, in hundredths of a per cent (9000 = 90%).
    coverage_basis_points: Mapped[int] = mapped_column(Integer)
    excludes_vat: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    conditions: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16))  # active | suspended | withdrawn
    source: Mapped[str] = mapped_column(String(8))  # csv | api | manual | insurer
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))


class CoverVersion(Base):
    """One version of a customer's cover, kept for good: the history of what the insurer granted."""

    __tablename__ = "cover_versions"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    cover: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    source: Mapped[str] = mapped_column(String(8))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_cover_versions_recorded_at", "recorded_at"),)


class OverdueReport(Base):
    """An overdue invoice reported to the credit insurer (the insurance policy's duty): when, and as what."""

    __tablename__ = "overdue_reports"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    open_amount_minor: Mapped[int] = mapped_column(BigInteger)  # what was open when reported
    due_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    reported_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(64))


class InsurerRequest(Base):
    """A request to the credit insurer for a limit on a buyer (new, increase, reduce, cancel) and its answer."""

    __tablename__ = "insurer_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(8))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    # The terms a new cover gets when the insurer grants one and the customer had none.
    terms: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(16))  # pending | answered
    insurer: Mapped[str] = mapped_column(String(64))
    insurer_request_id: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_insurer_requests_customer_id_requested_at", "customer_id", "requested_at"),
        Index("ix_insurer_requests_status", "status"),
    )
