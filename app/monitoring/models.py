"""Monitoring tables: each customer's last known credit state and the pass lease (the limit history is the
customers' table `credit_limit_history`, which monitoring writes to as one of its sources)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class CustomerCreditState(Base):
    """What monitoring last saw of a customer: the facts changes are detected against, and the limit."""

    __tablename__ = "customer_credit_states"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    risk_class: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(16))
    days_beyond_terms: Mapped[int | None] = mapped_column(Integer)
    overdue_beyond_tolerance: Mapped[bool] = mapped_column(Boolean, default=False)
    limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    limit_currency: Mapped[str | None] = mapped_column(String(3))
    report_provider: Mapped[str | None] = mapped_column(String(64))
    report_reference: Mapped[str | None] = mapped_column(String(128))
    report_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A provider notification asked for a fresh report: the next pass re-pulls it first.
    refresh_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MonitorLease(Base):
    """Held by the one replica running a monitor pass; it runs out by itself if that replica dies."""

    __tablename__ = "monitor_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(36))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
