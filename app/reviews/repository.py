"""Every query on reviews."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import WriteSession
from app.decisions.models import Decision, OpenCase, Review
from app.decisions.query import Cursor


def _settled() -> Any:
    return exists().where(Review.decision_id == Decision.id, Review.final.is_(True))


async def open_cases(session: AsyncSession, limit: int, cursor: Cursor | None) -> list[Decision]:
    """Decisions sent to review and not yet settled, oldest first (keyset on decided_at, id)."""
    query = select(Decision).join(OpenCase, OpenCase.decision_id == Decision.id)
    if cursor is not None:
        query = query.where(
            or_(
                OpenCase.decided_at > cursor.decided_at,
                and_(OpenCase.decided_at == cursor.decided_at, OpenCase.decision_id > cursor.id),
            )
        )
    query = query.order_by(OpenCase.decided_at, OpenCase.decision_id).limit(limit)
    return list((await session.scalars(query)).all())


async def close_case(session: WriteSession, decision_id: str) -> None:
    """The settling review takes the decision out of the queue, in the review's own transaction."""
    await session.execute(delete(OpenCase).where(OpenCase.decision_id == decision_id))


async def reviews_of(session: AsyncSession, decision_ids: Sequence[str]) -> dict[str, list[Review]]:
    found: dict[str, list[Review]] = defaultdict(list)
    if not decision_ids:
        return found
    query = select(Review).where(Review.decision_id.in_(decision_ids)).order_by(Review.decision_id, Review.step)
    for review in await session.scalars(query):
        found[review.decision_id].append(review)
    return found


async def insert_review(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(Review).values(**values))


async def latest_decision_id_for_order(session: AsyncSession, order_id: str) -> str | None:
    query = (
        select(Decision.id)
        .where(Decision.order_id == order_id)
        .order_by(Decision.decided_at.desc(), Decision.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def count_awaiting_review(session: AsyncSession) -> int:
    """Decisions sent to review that no review has settled yet."""
    return int(await session.scalar(select(func.count()).select_from(OpenCase)) or 0)
