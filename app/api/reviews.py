"""The review queue and reviewing a decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response

from app.api.deps import Idempotent, JsonBody, ReviewServiceDep, require_scope
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses, query_parameters
from app.auth import Principal
from app.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated
from app.reviews.schemas import ReviewIn, ReviewOut, ReviewQueue
from app.reviews.service import FourEyesRequired, NotUnderReview, ReviewerRequestedDecision, Superseded
from app.schema_types import cursor_schema

router = APIRouter(tags=["reviews"])

Reviewer = Annotated[Principal, Depends(require_scope("review"))]


@router.get(
    "/v1/reviews",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Open review cases, oldest first",
)
async def review_queue(
    _principal: Reviewer,
    service: ReviewServiceDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=512, json_schema_extra=cursor_schema("The `next_cursor` of the page before."))
    ] = None,
) -> ReviewQueue:
    """Decisions sent to review and not yet settled, each with its facts and any first review."""
    with query_parameters("cursor"):
        return await service.queue(limit, cursor)


@router.post(
    "/v1/decisions/{decision_id}/review",
    status_code=201,
    response_model=ReviewOut,
    dependencies=[JsonBody],
    responses=problem_responses(
        ReviewerRequestedDecision,  # a 403 like the scope's: the generic description below covers both
        *JSON_WRITE_PROBLEMS,
        NotFound,
        Conflict,
        NotUnderReview,
        FourEyesRequired,
        Superseded,
    ),
    summary="Review a decision: outcome, credit terms and a reason",
)
async def review_decision(
    decision_id: Annotated[str, Path(max_length=64)],
    body: Annotated[ReviewIn, Body()],
    principal: Reviewer,
    service: ReviewServiceDep,
    idempotent: Idempotent,
) -> Response:
    """Appends a review (the decision itself never changes); the settling review moves the reservation.

    Only a decision whose outcome is `review` can be reviewed (409 `not_under_review` otherwise), and never
    with the key that asked for it (403 `reviewer_requested_decision`). Above the policy's four-eyes amount
    the first review waits for a second one from another key."""
    return await idempotent.run(lambda recorder: service.review(decision_id, body, principal, recorder))
