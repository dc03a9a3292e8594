"""A review of a decision: one row per reviewer step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # No foreign key: retention deletes a decision together with its reviews (see decisions.repository).
    decision_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[int] = mapped_column(Integer)  # 1, or 2 for the second pair of eyes
    final: Mapped[bool] = mapped_column(Boolean)
    reviewer: Mapped[str] = mapped_column(String(32))  # the API key's id
    outcome: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    approved_credit_minor: Mapped[int] = mapped_column(BigInteger)
    prepayment_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        # Two reviewers racing for the same step: the database lets one win.
        UniqueConstraint("decision_id", "step", name="uq_reviews_decision_id_step"),
        Index("ix_reviews_decision_id_final", "decision_id", "final"),
    )


class OpenCase(Base):
    """A decision waiting for a person: written with the decision, deleted by the review that settles it.

    The review queue reads this short table instead of walking every review decision ever taken past its
    settled history; reviews themselves stay append-only."""

    __tablename__ = "review_cases"

    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_review_cases_decided_at", "decided_at", "decision_id"),)
