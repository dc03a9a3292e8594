"""Provider push: monitoring notifications from a credit-report provider (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.api.deps import JsonBody, NotificationServiceDep, require_scope
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.auth import Principal
from app.monitoring.notifications import NotificationBatch, NotificationResult

router = APIRouter(prefix="/v1/providers", tags=["providers"])
Admin = Annotated[Principal, Depends(require_scope("admin"))]


@router.post(
    "/notifications",
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS),
    summary="Monitoring events pushed by a provider (Creditsafe notificationEvents shape)",
)
async def notifications(
    body: NotificationBatch,
    _principal: Admin,
    service: NotificationServiceDep,
) -> NotificationResult:
    """A rating change that carries the new rating is applied without buying a report; other events make
    the next monitor pass re-pull the customer's report first."""
    return await service.receive(body)
