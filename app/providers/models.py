"""Provider tables: bought reports (the shared cache), purchase leases, spend, and the insurer's limits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class CreditReportRecord(Base):
    """One bought report. Every purchase is kept, so the raw payload behind any decision stays auditable."""

    __tablename__ = "credit_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    registration_number: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(128))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    raw_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cost_minor: Mapped[int] = mapped_column(BigInteger)
    cost_currency: Mapped[str] = mapped_column(String(3))

    __table_args__ = (
        # The cache lookup: the newest report of a company from each provider.
        Index("ix_credit_reports_company_fetched_at", "country", "registration_number", "provider", "fetched_at"),
    )


class ReportLease(Base):
    """Who is buying a company's report right now, across replicas; the key is provider|country|number."""

    __tablename__ = "report_leases"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    holder: Mapped[str] = mapped_column(String(36))
    # "buying" while held; "not_found" lingers briefly so a burst of waiters gets the answer too.
    state: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProviderCall(Base):
    """One call to a paid provider (with its retries): the spend ledger behind /v1/providers/usage."""

    __tablename__ = "provider_calls"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    registration_number: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # report | not_found | unavailable | bad_response
    cost_minor: Mapped[int] = mapped_column(BigInteger)
    cost_currency: Mapped[str] = mapped_column(String(3))
    latency_ms: Mapped[int] = mapped_column(Integer)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[date] = mapped_column(Date())

    __table_args__ = (Index("ix_provider_calls_day_provider", "day", "provider"),)


class ProviderCacheHits(Base):
    """Decisions served from the cache instead of a purchase, counted per provider and UTC day."""

    __tablename__ = "provider_cache_hits"

    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date(), primary_key=True)
    hits: Mapped[int] = mapped_column(BigInteger)
    stale_hits: Mapped[int] = mapped_column(BigInteger)


class InsurerLimit(Base):
    """A buyer limit granted by a credit insurer, as imported from the insurer's CSV."""

    __tablename__ = "insurer_limits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    registration_number: Mapped[str] = mapped_column(String(32))
    buyer_name: Mapped[str] = mapped_column(String(200))
    limit_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date] = mapped_column(Date())
    valid_to: Mapped[date | None] = mapped_column(Date())
    insurer_reference: Mapped[str] = mapped_column(String(64))
    risk_class: Mapped[str | None] = mapped_column(String(1))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "country", "registration_number", "insurer_reference", name="uq_insurer_limits_buyer_reference"
        ),
    )
