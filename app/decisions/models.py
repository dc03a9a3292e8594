"""The stored decision: everything needed to explain and replay it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    # Money as integer minor units of `currency`: exact on every database.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    credit_limit_minor: Mapped[int] = mapped_column(BigInteger)
    exposure_minor: Mapped[int] = mapped_column(BigInteger)
    available_credit_minor: Mapped[int] = mapped_column(BigInteger)
    approved_credit_minor: Mapped[int] = mapped_column(BigInteger)
    prepayment_minor: Mapped[int] = mapped_column(BigInteger)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    risk_class: Mapped[str] = mapped_column(String(16))
    segment: Mapped[str] = mapped_column(String(32))
    policy_version: Mapped[str] = mapped_column(String(64))
    report_provider: Mapped[str | None] = mapped_column(String(64))
    report_source: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    request: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    timings: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    api_key_id: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_decisions_decided_at_id", "decided_at", "id"),
        Index("ix_decisions_customer_id_decided_at", "customer_id", "decided_at", "id"),
        Index("ix_decisions_order_id_decided_at", "order_id", "decided_at", "id"),
        Index("ix_decisions_outcome_decided_at", "outcome", "decided_at", "id"),
        Index("ix_decisions_report_provider_decided_at", "report_provider", "decided_at", "id"),
        Index("ix_decisions_policy_version_decided_at", "policy_version", "decided_at", "id"),
        Index("ix_decisions_currency_amount_minor", "currency", "amount_minor"),
    )


class DecisionReason(Base):
    """One reason code of a decision, written with it by a trigger on `decisions` (migration 0015): the history
    filters on codes through this index."""

    __tablename__ = "decision_reasons"

    decision_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_decision_reasons_code_decided_at", "code", "decided_at", "decision_id"),)


# A decision sent to review lives on in these two tables: the open case the decision path writes, and the
# reviews that settle it (app.reviews runs the queue and the four eyes over them).
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
