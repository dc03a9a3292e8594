"""Credit insurance covers on customers: record (credit managers), read, and the history of every version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.api.customers import WRITE_PROBLEMS, CustomerId
from app.api.deps import CoverServiceDep, Idempotent, InsurerRequestServiceDep, JsonBody, Read, require_any_scope
from app.api.problems import problem_responses
from app.auth import Principal
from app.errors import Forbidden, NotFound, Unauthenticated
from app.insurance.insurer_requests import (
    InsurerNotReachable,
    InsurerRequestIn,
    InsurerRequestOut,
    InsurerRequestPage,
    NoCoverToChange,
    NoInsurerConfigured,
)
from app.insurance.schemas import CoverHistory, CoverIn, CoverOut

router = APIRouter(prefix="/v1/customers", tags=["insurance"])
CreditManager = Annotated[Principal, Depends(require_any_scope("admin", "review"))]


@router.put(
    "/{customer_id}/cover",
    response_model=CoverOut,
    dependencies=[JsonBody],
    responses={201: {"model": CoverOut, "description": "Created"}, **problem_responses(*WRITE_PROBLEMS, NotFound)},
    summary="Record the credit insurer's cover on a customer (201 the first, 200 a change; history kept)",
)
async def put_cover(
    customer_id: CustomerId,
    body: CoverIn,
    principal: CreditManager,
    service: CoverServiceDep,
    idempotent: Idempotent,
) -> Response:
    """A change is a new version (GET …/cover/history), an audit event `cover.changed` and a webhook
    `customer.cover_changed`; the same terms again change nothing."""
    return await idempotent.run(lambda recorder: service.put_cover(customer_id, body, recorder, actor=principal.key_id))


@router.get(
    "/{customer_id}/cover",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="The customer's cover as it stands, and whether it is in force today",
)
async def get_cover(customer_id: CustomerId, _principal: Read, service: CoverServiceDep) -> CoverOut:
    return await service.get_cover(customer_id)


@router.get(
    "/{customer_id}/cover/history",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="Every version of the customer's cover, newest first",
)
async def cover_history(
    customer_id: CustomerId,
    _principal: Read,
    service: CoverServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CoverHistory:
    return await service.history(customer_id, limit)


@router.post(
    "/{customer_id}/insurer-requests",
    status_code=201,
    response_model=InsurerRequestOut,
    dependencies=[JsonBody],
    responses=problem_responses(*WRITE_PROBLEMS, NotFound, NoCoverToChange, NoInsurerConfigured, InsurerNotReachable),
    summary="Ask the credit insurer for a limit on the customer (new, increase, reduce, cancel): pending",
)
async def request_limit(
    customer_id: CustomerId,
    body: InsurerRequestIn,
    principal: CreditManager,
    service: InsurerRequestServiceDep,
    idempotent: Idempotent,
) -> Response:
    """Sent through the configured insurer (CREDITGATE_INSURER) and recorded pending; the insurer's answer, by
    callback or poll, updates the cover (docs/insurance.md). 409 `insurer_not_configured` without an insurer
    adapter, 503 `insurer_unavailable` when it cannot be reached: either way nothing was sent."""
    return await idempotent.run(lambda recorder: service.request(customer_id, body, recorder, actor=principal.key_id))


@router.get(
    "/{customer_id}/insurer-requests",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="The customer's limit requests to the insurer, newest first",
)
async def insurer_requests(
    customer_id: CustomerId,
    _principal: Read,
    service: InsurerRequestServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InsurerRequestPage:
    return await service.of_customer(customer_id, limit)
