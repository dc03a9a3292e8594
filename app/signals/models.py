"""Early-warning signals: one active signal per customer and kind, enforced by the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class WarningSignal(Base):
    """A threshold of the policy's `signals` section the customer's record crossed.

    `active` is true while the signal is open or acknowledged and NULL once cleared: the unique constraint on
    (customer_id, kind, active) lets one active signal per customer and kind exist, on every replica (NULLs
    are distinct), and any number of cleared ones."""

    __tablename__ = "warning_signals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # "open", "acknowledged" or "cleared"
    active: Mapped[bool | None] = mapped_column(Boolean)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))  # the policy's, of exposure_minor
    exposure_minor: Mapped[int] = mapped_column(BigInteger)  # the customer's exposure, as last recomputed
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    note_id: Mapped[str | None] = mapped_column(String(36))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "active", name="uq_warning_signals_customer_id_kind_active"),
        Index("ix_warning_signals_status_exposure_minor", "status", "exposure_minor"),
    )
