"""Early-warning signals: the list by exposure at risk, a customer's signals, and acknowledging one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.api.customers import CustomerId
from app.api.deps import Idempotent, JsonBody, Read, SignalServiceDep, require_scope
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.auth import Principal
from app.errors import Forbidden, InvalidRequest, NotFound, Unauthenticated
from app.signals.schemas import AcknowledgeIn, SignalOut, SignalsOut, SignalStatus
from app.signals.service import SignalNotOpen

router = APIRouter(tags=["signals"])

Reviewer = Annotated[Principal, Depends(require_scope("review"))]
SignalId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]


@router.get(
    "/v1/signals",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Early-warning signals, the customers with the most exposure at risk first",
)
async def list_signals(
    _principal: Read,
    service: SignalServiceDep,
    status: Annotated[SignalStatus, Query(description="open (default), acknowledged or cleared.")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SignalsOut:
    """Sorted by the customer's exposure as last recomputed (in the policy's currency), then newest first."""
    return await service.by_exposure(status, limit)


@router.get(
    "/v1/customers/{customer_id}/signals",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound, InvalidRequest),
    summary="A customer's early-warning signals, newest first",
)
async def customer_signals(
    customer_id: CustomerId,
    _principal: Read,
    service: SignalServiceDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> SignalsOut:
    return await service.of_customer(customer_id, limit)


@router.post(
    "/v1/customers/{customer_id}/signals/{signal_id}/acknowledge",
    response_model=SignalOut,
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS, NotFound, SignalNotOpen),
    summary="Acknowledge an open signal with a note",
)
async def acknowledge_signal(
    customer_id: CustomerId,
    signal_id: SignalId,
    body: AcknowledgeIn,
    principal: Reviewer,
    service: SignalServiceDep,
    idempotent: Idempotent,
) -> Response:
    """The note is stored with the customer's notes (`note.added`); the acknowledgement is `signal.acknowledged`
    in the audit trail. Once its threshold is no longer crossed, the signal is cleared."""
    return await idempotent.run(
        lambda recorder: service.acknowledge(customer_id, signal_id, body, principal.key_id, recorder)
    )
