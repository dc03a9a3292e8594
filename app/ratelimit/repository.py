"""Rate-limit counters: one upsert per block of requests claimed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from app.db import WriteSession, dialect_insert
from app.ratelimit.models import RateLimitWindow


async def count_requests(
    session: WriteSession, api_key_id: str, bucket: str, window_start: datetime, requests: int
) -> int:
    """Add `requests` to the key's counter for this window and return the new count."""
    insert = dialect_insert(session)(RateLimitWindow).values(
        api_key_id=api_key_id, bucket=bucket, window_start=window_start, count=requests
    )
    statement = insert.on_conflict_do_update(
        index_elements=["api_key_id", "bucket", "window_start"],
        set_={"count": RateLimitWindow.count + requests},
    ).returning(RateLimitWindow.count)
    return int((await session.execute(statement)).scalar_one())


async def drop_windows_before(session: WriteSession, api_key_id: str, bucket: str, window_start: datetime) -> None:
    await session.execute(
        delete(RateLimitWindow).where(
            RateLimitWindow.api_key_id == api_key_id,
            RateLimitWindow.bucket == bucket,
            RateLimitWindow.window_start < window_start,
        )
    )
