"""Limit requests and the reviews that decide them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.customers.models import JSONDocument
from app.db import Base, UTCDateTime


class LimitRequest(Base):
    """A proposed limit for a customer (or its group), or a temporary uplift, awaiting a reviewer's decision."""

    __tablename__ = "limit_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id"))
    # "customer": the customer's own limit; "group": the limit of the group whose root the customer is.
    target: Mapped[str] = mapped_column(String(16))
    # "standing": a new limit; "temporary": an uplift on top of the standing limit for [starts_at, ends_at).
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    current_limit_minor: Mapped[int | None] = mapped_column(BigInteger)  # the limit it would replace, when set
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(2000))
    requested_by: Mapped[str] = mapped_column(String(64))  # a key id, or "opportunities" for a proposal
    requester_role: Mapped[str] = mapped_column(String(16))  # "sales", "credit_manager", "opportunities"
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    four_eyes: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))  # "pending", "approved", "refused"
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A proposal's explanation: the figures its amount was computed from.
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_limit_requests_status_created_at", "status", "created_at"),
        Index("ix_limit_requests_customer_id_created_at", "customer_id", "created_at"),
    )


class LimitRequestReview(Base):
    """One reviewer's step on a limit request; the primary key lets only one reviewer take each step."""

    __tablename__ = "limit_request_reviews"

    request_id: Mapped[str] = mapped_column(String(36), ForeignKey("limit_requests.id"), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # "approve", "refuse"
    final: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(2000))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
