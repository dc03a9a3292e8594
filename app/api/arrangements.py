"""Payment arrangements: the ERP or a credit manager records them; readers read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.api.customers import CustomerId
from app.api.deps import ArrangementServiceDep, Idempotent, JsonBody, Read, require_any_scope
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.arrangements.schemas import ArrangementIn, ArrangementOut, ArrangementsOut, CancelIn
from app.arrangements.service import ArrangementNotOpen
from app.auth import Principal
from app.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated

router = APIRouter(prefix="/v1/customers", tags=["customers"])

ArrangementWriter = Annotated[Principal, Depends(require_any_scope("receivables", "review"))]
ArrangementId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]


@router.post(
    "/{customer_id}/arrangements",
    status_code=201,
    response_model=ArrangementOut,
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS, NotFound, Conflict),
    summary="Record a promise to pay or an instalment plan for open invoices",
)
async def create_arrangement(
    customer_id: CustomerId,
    body: ArrangementIn,
    principal: ArrangementWriter,
    service: ArrangementServiceDep,
    idempotent: Idempotent,
) -> Response:
    """The instalments add up to what the invoices owe today (409 otherwise), each due today or later and after
    the one before; an invoice is under one open arrangement at most. Judged against the customer's payments
    from then on: see docs/behaviour.md."""
    return await idempotent.run(lambda recorder: service.create(customer_id, body, principal.key_id, recorder))


@router.get(
    "/{customer_id}/arrangements",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound, InvalidRequest),
    summary="A customer's payment arrangements, newest first, each judged as of today",
)
async def list_arrangements(
    customer_id: CustomerId,
    _principal: Read,
    service: ArrangementServiceDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> ArrangementsOut:
    return await service.arrangements(customer_id, limit)


@router.get(
    "/{customer_id}/arrangements/{arrangement_id}",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="One payment arrangement, judged as of today",
)
async def get_arrangement(
    customer_id: CustomerId, arrangement_id: ArrangementId, _principal: Read, service: ArrangementServiceDep
) -> ArrangementOut:
    return await service.get(customer_id, arrangement_id)


@router.post(
    "/{customer_id}/arrangements/{arrangement_id}/cancel",
    response_model=ArrangementOut,
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS, NotFound, ArrangementNotOpen),
    summary="Cancel a kept or broken arrangement, with the reason",
)
async def cancel_arrangement(
    customer_id: CustomerId,
    arrangement_id: ArrangementId,
    body: CancelIn,
    principal: ArrangementWriter,
    service: ArrangementServiceDep,
    idempotent: Idempotent,
) -> Response:
    """Its invoices count in the overdue stop again; the cancellation is in the audit trail."""
    return await idempotent.run(
        lambda recorder: service.cancel(customer_id, arrangement_id, body, principal.key_id, recorder)
    )
