"""Every query on idempotency records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from app.db import WriteSession, dialect_insert
from app.idempotency.models import IdempotencyRecord


async def insert_if_absent(session: WriteSession, values: dict[str, object]) -> bool:
    """Insert a new claim; False when a record with the same (api key, key) exists."""
    insert = dialect_insert(session)
    statement = (
        insert(IdempotencyRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
        .returning(IdempotencyRecord.api_key_id)
    )
    return (await session.execute(statement)).first() is not None


async def get_locked(session: WriteSession, api_key_id: str, key: str) -> IdempotencyRecord | None:
    query = (
        select(IdempotencyRecord)
        .where(IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)
        .with_for_update()
    )
    return (await session.scalars(query)).one_or_none()


async def take_over(session: WriteSession, api_key_id: str, key: str, values: dict[str, object]) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)
        .values(**values)
    )


async def complete(session: WriteSession, api_key_id: str, key: str, token: str, status_code: int, body: bytes) -> bool:
    """Store the response; False when the claim is no longer this request's."""
    result = await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.api_key_id == api_key_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.token == token,
            IdempotencyRecord.state == "in_flight",
        )
        .values(state="done", status_code=status_code, body=body)
        .returning(IdempotencyRecord.key)
    )
    return result.first() is not None


async def release(session: WriteSession, api_key_id: str, key: str, token: str) -> None:
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.token == token,
            IdempotencyRecord.state == "in_flight",
        )
    )


async def purge_expired(session: WriteSession, now: datetime) -> None:
    """Drop the records past their retention (indexed on expires_at)."""
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now))
