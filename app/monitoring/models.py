"""Monitoring tables: each customer's last known credit state, its limit history, the pass lease, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


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


class CreditLimitChange(Base):
    """Every limit monitoring (or the ERP) set, with what changed and why: the customer's limit history."""

    __tablename__ = "credit_limit_history"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    old_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    new_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    source: Mapped[str] = mapped_column(String(32))  # "monitor", "provider_notification", "erp"
    policy_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_credit_limit_history_customer_id_created_at", "customer_id", "created_at"),)


class MonitorLease(Base):
    """Held by the one replica running a monitor pass; it runs out by itself if that replica dies."""

    __tablename__ = "monitor_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(36))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
