"""Liveness and readiness; no key needed."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import DatabaseDep
from app.errors import ServiceUnavailable, problem_responses

router = APIRouter(prefix="/health", tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/live", summary="The process is up")
async def live() -> Health:
    return Health(status="live")


@router.get("/ready", responses=problem_responses(ServiceUnavailable), summary="The database takes writes")
async def ready(database: DatabaseDep) -> Health:
    try:
        async with asyncio.timeout(2):
            # A write transaction: on SQLite a file locked by someone else is not ready, though reads still work.
            async with database.transaction() as session:
                await session.execute(text("SELECT 1"))
    except (TimeoutError, SQLAlchemyError, OSError):
        raise ServiceUnavailable("the database is not reachable") from None
    return Health(status="ready")
