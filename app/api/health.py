"""Liveness and readiness; no key needed."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.deps import ReadinessDep
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
async def ready(readiness: ReadinessDep) -> Health:
    """Not ready while the database is unreachable, locked, or not yet migrated to this release's schema."""
    await readiness.check()
    return Health(status="ready")
