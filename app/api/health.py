"""Liveness and readiness; no key needed."""

from __future__ import annotations

import asyncio
from functools import cache

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.api.deps import DatabaseDep
from app.api.problems import problem_responses
from app.errors import ServiceUnavailable

router = APIRouter(prefix="/health", tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/live", summary="The process is up")
async def live() -> Health:
    return Health(status="live")


@router.get(
    "/ready", responses=problem_responses(ServiceUnavailable), summary="The database takes writes, its schema at head"
)
async def ready(request: Request, database: DatabaseDep) -> Health:
    """Not ready while the database is unreachable, locked, or not yet migrated to this release's schema."""
    state = request.app.state
    try:
        async with asyncio.timeout(2):
            # A write transaction: on SQLite a file locked by someone else is not ready, though reads still work.
            async with database.transaction() as session:
                await session.execute(text("SELECT 1"))
                # Once seen at head the schema stays there for this process: later checks cost one statement.
                if not getattr(state, "schema_at_head", False):
                    state.schema_at_head = await _schema_at_head(session)
    except (TimeoutError, SQLAlchemyError, OSError):
        raise ServiceUnavailable("the database is not reachable") from None
    if not state.schema_at_head:
        raise ServiceUnavailable(
            "the database schema is not at this release's head revision: run `creditgate migrate`",
            headers={"Retry-After": "5"},
        )
    return Health(status="ready")


async def _schema_at_head(session: AsyncSession) -> bool:
    """Whether the revisions alembic recorded in the database are this release's heads (none on an empty one)."""
    if not await session.run_sync(_has_version_table):
        return False
    stored = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    return set(stored) == head_revisions()


def _has_version_table(session: Session) -> bool:
    # Asked first: on PostgreSQL, a statement on a missing table would abort the transaction.
    return inspect(session.connection()).has_table("alembic_version")


@cache
def head_revisions() -> frozenset[str]:
    """The head revisions of the migrations shipped with this release (read once from migrations/)."""
    from alembic.script import ScriptDirectory

    from app.db import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())
