"""Every query on stored decisions."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Select, and_, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.decisions.models import Decision, DecisionReason
from app.errors import FieldError, InvalidRequest


@dataclass(frozen=True, slots=True)
class DecisionFilters:
    customer_id: str | None = None
    order_id: str | None = None
    outcome: str | None = None
    decided_from: datetime | None = None
    decided_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after the last row of a page: (decided_at, id), newest first."""

    decided_at: datetime
    id: str

    def encode(self) -> str:
        raw = orjson.dumps([self.decided_at.isoformat(), self.id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            decided_at, decision_id = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return cls(datetime.fromisoformat(decided_at), str(decision_id))
        except (ValueError, TypeError, orjson.JSONDecodeError):
            raise InvalidRequest(
                "the cursor is not one this API returned",
                errors=[FieldError(field="query.cursor", message="not a valid cursor", type="cursor_invalid")],
            ) from None


async def insert_decision(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(Decision).values(**values))
    codes = sorted({reason["code"] for reason in values["reasons"]})
    if codes:
        rows = [{"decision_id": values["id"], "code": code, "decided_at": values["decided_at"]} for code in codes]
        await session.execute(insert(DecisionReason), rows)


async def get_decision(session: AsyncSession, decision_id: str) -> Decision | None:
    return await session.get(Decision, decision_id)


async def has_credit_history(session: AsyncSession, customer_id: str) -> bool:
    """Whether any earlier order of the customer was granted credit."""
    query = select(exists().where(Decision.customer_id == customer_id, Decision.approved_credit_minor > 0))
    return bool(await session.scalar(query))


def _filtered(filters: DecisionFilters) -> Select[Decision]:
    query = select(Decision)
    if filters.customer_id is not None:
        query = query.where(Decision.customer_id == filters.customer_id)
    if filters.order_id is not None:
        query = query.where(Decision.order_id == filters.order_id)
    if filters.outcome is not None:
        query = query.where(Decision.outcome == filters.outcome)
    if filters.decided_from is not None:
        query = query.where(Decision.decided_at >= filters.decided_from)
    if filters.decided_to is not None:
        query = query.where(Decision.decided_at < filters.decided_to)
    return query


async def list_decisions(
    session: AsyncSession, filters: DecisionFilters, limit: int, cursor: Cursor | None
) -> list[Decision]:
    """Newest first; keyset paging on (decided_at, id) so concurrent inserts never shift a page."""
    query = _filtered(filters)
    if cursor is not None:
        query = query.where(
            or_(
                Decision.decided_at < cursor.decided_at,
                and_(Decision.decided_at == cursor.decided_at, Decision.id < cursor.id),
            )
        )
    query = query.order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())
