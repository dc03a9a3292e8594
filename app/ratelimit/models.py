"""One counter per API key and fixed time window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class RateLimitWindow(Base):
    __tablename__ = "rate_limit_windows"

    api_key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # What is limited, e.g. "decisions": one key may have a window per limited path.
    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
