"""Order events from the ERP and the reservation they move."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from app.api.deps import Idempotent, JsonBody, OrderServiceDep, Read, Receivables
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.errors import Conflict, Forbidden, NotFound, Unauthenticated
from app.orders.schemas import OrderEvent, ReservationOut
from app.orders.service import AmendmentNeedsDecision, EventNotApplicable

router = APIRouter(prefix="/v1/orders", tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]


@router.post(
    "/{order_id}/events",
    response_model=ReservationOut,
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS, NotFound, Conflict, EventNotApplicable, AmendmentNeedsDecision),
    summary="Shipped, invoiced (with the invoice id), cancelled or amended (with the new amount)",
)
async def order_event(
    order_id: OrderId,
    event: Annotated[OrderEvent, Body()],
    _principal: Receivables,
    service: OrderServiceDep,
    idempotent: Idempotent,
) -> Response:
    """Invoiced moves the reserved amount into receivables; cancelled releases it; amended lowers it."""
    return await idempotent.run(lambda recorder: service.apply(order_id, event, recorder))


@router.get(
    "/{order_id}/reservation",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="The credit reserved for an order",
)
async def reservation(order_id: OrderId, _principal: Read, service: OrderServiceDep) -> ReservationOut:
    return await service.reservation(order_id)
