"""Limit requests: a sales system or a credit manager asks, reviewers decide; the limit history per customer."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from app.api.customers import CustomerId
from app.api.deps import (
    Idempotent,
    JsonBody,
    LimitRequestServiceDep,
    LimitReviewServiceDep,
    OpportunitiesServiceDep,
    require_any_scope,
    require_scope,
)
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.auth import Principal
from app.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated
from app.limits.opportunities import OpportunitiesResult
from app.limits.review_dates import DueLimit, LimitConfirmIn, LimitReviewQueue
from app.limits.schemas import LimitRequestIn, LimitRequestList, LimitRequestOut, LimitReviewIn
from app.limits.service import FourEyesRequired, RequesterCannotReview, RequestExpired, RequestNotPending
from app.schema_types import IsoDate
from app.schemas import Identifier

router = APIRouter(prefix="/v1/limit-requests", tags=["limit requests"])
reviews_router = APIRouter(tags=["limit requests"])

Requester = Annotated[Principal, Depends(require_any_scope("sales", "review"))]
Reviewer = Annotated[Principal, Depends(require_scope("review"))]
Reader = Annotated[Principal, Depends(require_any_scope("read", "review", "sales"))]
RequestId = Annotated[str, Path(min_length=1, max_length=36)]


@router.post(
    "",
    status_code=201,
    response_model=LimitRequestOut,
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS, NotFound, Conflict),
    summary="Ask for a new limit, a group limit or a temporary uplift (sales or review scope)",
)
async def create_limit_request(
    body: LimitRequestIn, principal: Requester, service: LimitRequestServiceDep, idempotent: Idempotent
) -> Response:
    """Stored as `pending` until reviewers decide it; it lapses (`expired`) undecided after `valid_until`.

    Above the policy's `limits.four_eyes_above` (else `review.four_eyes_above`) two different reviewers must
    approve it; the requesting key never reviews it."""
    return await idempotent.run(lambda recorder: service.create(body, principal, recorder))


@router.get(
    "",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Limit requests, newest first",
)
async def list_limit_requests(
    _principal: Reader,
    service: LimitRequestServiceDep,
    status: Annotated[Literal["pending", "approved", "refused", "expired"] | None, Query()] = None,
    customer_id: Annotated[Identifier | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> LimitRequestList:
    return await service.list(status, customer_id, limit)


@router.get(
    "/{request_id}",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="One limit request with its reviews",
)
async def get_limit_request(
    request_id: RequestId, _principal: Reader, service: LimitRequestServiceDep
) -> LimitRequestOut:
    return await service.get(request_id)


@router.post(
    "/{request_id}/review",
    status_code=201,
    response_model=LimitRequestOut,
    dependencies=[JsonBody],
    responses=problem_responses(
        RequesterCannotReview,
        *JSON_WRITE_PROBLEMS,
        NotFound,
        Conflict,
        RequestNotPending,
        RequestExpired,
        FourEyesRequired,
    ),
    summary="Approve or refuse a limit request, with a reason",
)
async def review_limit_request(
    request_id: RequestId,
    body: LimitReviewIn,
    principal: Reviewer,
    service: LimitRequestServiceDep,
    idempotent: Idempotent,
) -> Response:
    """A refusal decides at once; an approval decides unless the request needs four eyes, when a second,
    different reviewer decides. The approved limit is applied in the same transaction: the manual limit
    (source `request` in the limit history), the group limit, or the temporary uplift; `customer.limit_changed`
    and `limit_request.decided` are announced. Two reviewers at once: one wins, the other gets 409."""
    return await idempotent.run(lambda recorder: service.review(request_id, body, principal, recorder))


@reviews_router.get(
    "/v1/limit-reviews",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Limits due for review: the policy's review date reached, or a manual limit expired or expiring",
)
async def limit_reviews(
    _principal: Annotated[Principal, Depends(require_any_scope("read", "review"))],
    service: LimitReviewServiceDep,
    due_by: Annotated[IsoDate | None, Query(description="Due on or before this day (default: today).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> LimitReviewQueue:
    """The next review date is the limit's last change or confirmation plus the policy's
    `limits.review_months` for the customer's risk class."""
    return await service.queue(due_by, limit)


@reviews_router.post(
    "/v1/customers/{customer_id}/limit-review",
    status_code=201,
    response_model=DueLimit,
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS, NotFound),
    summary="Confirm a customer's limit as it stands: its next review date moves on",
)
async def confirm_limit(
    customer_id: CustomerId,
    body: LimitConfirmIn,
    principal: Reviewer,
    service: LimitReviewServiceDep,
    idempotent: Idempotent,
) -> Response:
    """Recorded in the limit history (origin `review`) and the audit trail (`limit.review_confirmed`)."""
    return await idempotent.run(lambda recorder: service.confirm(customer_id, body, principal, recorder))


@reviews_router.post(
    "/v1/opportunities",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Run the opportunities pass: propose higher limits to good payers held back by their limit",
)
async def run_opportunities(
    _principal: Reviewer,
    service: OpportunitiesServiceDep,
    lookback_days: Annotated[
        int | None, Query(ge=1, le=730, description="Default: the policy's limits.proposals.lookback_days.")
    ] = None,
) -> OpportunitiesResult:
    """Each proposal is a pending limit request (`requester_role: opportunities`) with the figures of its amount
    in `proposal`; customers passed over are listed with why. `creditgate opportunities` runs the same pass."""
    return await service.run(lookback_days)
