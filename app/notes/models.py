"""The notes table: free text on a customer, or on one of its decisions (a review case)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id"))
    # The decision (review case) the note is on; no foreign key: a note outlives its decision's retention.
    decision_id: Mapped[str | None] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(String(2000))
    author: Mapped[str] = mapped_column(String(64))  # the key id that wrote it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_notes_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_notes_decision_id", "decision_id"),
    )
