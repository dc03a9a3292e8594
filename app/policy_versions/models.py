"""Stored policy versions and the activation log whose newest row names the active version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.decisions.models import JSONDocument


class PolicyVersion(Base):
    """One policy document; never changed once stored."""

    __tablename__ = "policy_versions"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    # The validated document in its canonical JSON form, and the SHA-256 of that form.
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(32))


class PolicyActivation(Base):
    """Every activation, in order: the newest row is the active version for every replica."""

    __tablename__ = "policy_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64), ForeignKey("policy_versions.version"))
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_by: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index("ix_policy_activations_version_id", "version", "id"),)
