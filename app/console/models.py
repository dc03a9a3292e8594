"""Console sessions ended before their cookie expires: a signed cookie stays valid until it is listed here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class EndedConsoleSession(Base):
    __tablename__ = "console_sessions_ended"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)  # the session's random nonce
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the cookie's own expiry: kept until then

    __table_args__ = (Index("ix_console_sessions_ended_expires_at", "expires_at"),)
