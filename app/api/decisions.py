"""POST /v1/decisions and the decision history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import StreamingResponse

from app.api.deps import (
    DecisionCallDep,
    DecisionServiceDep,
    JsonBody,
    Read,
    ReviewServiceDep,
)
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses, query_parameters
from app.api.streaming import ClosingStreamingResponse
from app.db import HeavyReadsBusy
from app.decisions.query import DecisionFilters
from app.decisions.schemas import (
    DecisionOut,
    DecisionPage,
    DecisionRequest,
    OutcomeName,
)
from app.errors import Conflict, FieldError, Forbidden, InvalidRequest, NotFound, TooManyRequests, Unauthenticated
from app.fields import AMOUNT_PATTERN
from app.money import to_minor
from app.orders.service import OrderAlreadyInvoiced
from app.policy.facts import REASON_CODES
from app.reviews.schemas import ReviewedDecision
from app.schema_types import CurrencyCode, IsoDateTime, cursor_schema
from app.schemas import check_currency, parse_amount

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])
CURSOR_HELP = "The `next_cursor` of the page before."


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DecisionOut,
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS, Conflict, OrderAlreadyInvoiced, TooManyRequests),
    summary="Decide on an order",
)
async def create_decision(body: DecisionRequest, call: DecisionCallDep) -> Response:
    """Accept on credit, ask prepayment, send to review or reject; the decision is stored before it is answered.

    Approved credit is reserved for the order (a later decision for the same order replaces it).
    """
    # The paid path's rate limit, counted here: a body refused by validation uses none of the key's budget,
    # and a key that has used up its window gets 429 before any report is bought.
    await call.rate.hit(call.principal.key_id)
    return await call.idempotent.run(lambda recorder: call.service.decide(body, call.principal, recorder))


async def decision_filters(
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    order_id: Annotated[str | None, Query(max_length=64)] = None,
    outcome: OutcomeName | None = None,
    final_outcome: Annotated[
        OutcomeName | None, Query(description="The settling review's outcome, else the decision's own.")
    ] = None,
    decided_from: Annotated[IsoDateTime | None, Query(description="Inclusive, RFC 3339 with an offset.")] = None,
    decided_to: Annotated[IsoDateTime | None, Query(description="Exclusive, RFC 3339 with an offset.")] = None,
    reason_code: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Decisions that carry this code (one the evaluator gives: any other is refused).",
            json_schema_extra={"enum": sorted(REASON_CODES)},
        ),
    ] = None,
    provider: Annotated[str | None, Query(max_length=64, description="The report's provider.")] = None,
    policy_version: Annotated[str | None, Query(max_length=64)] = None,
    currency: Annotated[CurrencyCode | None, Query(description="ISO 4217; required with an amount bound.")] = None,
    # The pattern is the document's; the bound's own check says what is wrong (negative, too large, not a number).
    amount_min: Annotated[
        str | None,
        Query(max_length=32, description='Inclusive, e.g. "1000.00".', json_schema_extra={"pattern": AMOUNT_PATTERN}),
    ] = None,
    amount_max: Annotated[
        str | None,
        Query(max_length=32, description='Inclusive, e.g. "5000.00".', json_schema_extra={"pattern": AMOUNT_PATTERN}),
    ] = None,
    reviewed: Annotated[
        bool | None, Query(description="true: settled by a manual review; false: not (yet) reviewed.")
    ] = None,
) -> DecisionFilters:
    """The history's filters, shared by the paged list and the CSV export."""
    return DecisionFilters(
        customer_id=customer_id,
        order_id=order_id,
        outcome=outcome,
        decided_from=decided_from,
        decided_to=decided_to,
        reason_code=_reason_code(reason_code),
        provider=provider,
        policy_version=policy_version,
        currency=_currency(currency),
        amount_min_minor=_amount_bound("amount_min", amount_min, currency),
        amount_max_minor=_amount_bound("amount_max", amount_max, currency),
        reviewed=reviewed,
        final_outcome=final_outcome,
    )


Filters = Annotated[DecisionFilters, Depends(decision_filters)]


@router.get(
    "",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Decision history, newest first",
)
async def list_decisions(
    _principal: Read,
    service: DecisionServiceDep,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, json_schema_extra=cursor_schema(CURSOR_HELP))] = None,
) -> DecisionPage:
    with query_parameters("cursor"):
        return await service.history(filters, limit, cursor)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "One row per decision, newest first."},
        **problem_responses(Unauthenticated, Forbidden, InvalidRequest, HeavyReadsBusy),
    },
    summary="Decision history as CSV, streamed",
)
async def export_decisions(_principal: Read, service: DecisionServiceDep, filters: Filters) -> StreamingResponse:
    """Takes the history's filters; streams every matching decision without holding them all in memory.

    A few exports run at once per process (503 with Retry-After beyond them); a bad filter is refused before the
    first byte."""
    return ClosingStreamingResponse(
        await service.export_csv(filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="decisions.csv"'},
    )


@router.get(
    "/{decision_id}",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="One decision with everything needed to explain it",
)
async def get_decision(
    decision_id: str, _principal: Read, service: DecisionServiceDep, reviews: ReviewServiceDep
) -> ReviewedDecision:
    detail = await service.get(decision_id)
    return ReviewedDecision(**detail.model_dump(), reviews=await reviews.reviews(decision_id))


def _reason_code(value: str | None) -> str | None:
    if value is not None and value not in REASON_CODES:
        message = f"{value} is no reason code; the codes are " + ", ".join(sorted(REASON_CODES))
        raise InvalidRequest(message, errors=[FieldError(field="query.reason_code", message=message)])
    return value


def _currency(value: str | None) -> str | None:
    if value is not None:
        try:
            check_currency(value)
        except ValueError as exc:
            raise InvalidRequest(str(exc), errors=[FieldError(field="query.currency", message=str(exc))]) from None
    return value


def _amount_bound(name: str, value: str | None, currency: str | None) -> int | None:
    """A decimal-string bound in the currency's minor units; a bound means nothing without its currency."""
    if value is None:
        return None
    if currency is None:
        message = "an amount bound needs the currency it is in"
        raise InvalidRequest(message, errors=[FieldError(field="query.currency", message=message)])
    try:
        return to_minor(parse_amount(value, currency, allow_zero=True), currency)
    except ValueError as exc:
        raise InvalidRequest(str(exc), errors=[FieldError(field=f"query.{name}", message=str(exc))]) from None
