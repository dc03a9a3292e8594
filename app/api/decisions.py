"""POST /v1/decisions and the decision history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import Decide, DecisionServiceDep, Idempotent, JsonBody, Read
from app.decisions.repository import DecisionFilters
from app.decisions.schemas import DecisionDetail, DecisionOut, DecisionPage, DecisionRequest, OutcomeName
from app.decisions.service import OrderAlreadyInvoiced
from app.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidRequest,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    problem_responses,
)

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DecisionOut,
    dependencies=[JsonBody],
    responses=problem_responses(
        MalformedRequest,
        Unauthenticated,
        Forbidden,
        PayloadTooLarge,
        UnsupportedMediaType,
        InvalidRequest,
        Conflict,
        OrderAlreadyInvoiced,
    ),
    summary="Decide on an order",
)
async def create_decision(
    body: DecisionRequest, principal: Decide, service: DecisionServiceDep, idempotent: Idempotent
) -> Response:
    """Accept on credit, ask prepayment, send to review or reject; the decision is stored before it is answered.

    Approved credit is reserved for the order (a later decision for the same order replaces it).
    """
    return await idempotent.run(lambda recorder: service.decide(body, principal, recorder))


@router.get(
    "",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Decision history, newest first",
)
async def list_decisions(
    _principal: Read,
    service: DecisionServiceDep,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    order_id: Annotated[str | None, Query(max_length=64)] = None,
    outcome: OutcomeName | None = None,
    decided_from: Annotated[datetime | None, Query(description="Inclusive, RFC 3339.")] = None,
    decided_to: Annotated[datetime | None, Query(description="Exclusive, RFC 3339.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DecisionPage:
    filters = DecisionFilters(
        customer_id, order_id, outcome, _aware("decided_from", decided_from), _aware("decided_to", decided_to)
    )
    return await service.history(filters, limit, cursor)


@router.get(
    "/{decision_id}",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="One decision with everything needed to explain it",
)
async def get_decision(decision_id: str, _principal: Read, service: DecisionServiceDep) -> DecisionDetail:
    return await service.get(decision_id)


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        message = "times need a UTC offset (RFC 3339), e.g. 2026-11-23T10:00:00Z"
        raise InvalidRequest(message, errors=[FieldError(field=f"query.{name}", message=message)])
    return value
