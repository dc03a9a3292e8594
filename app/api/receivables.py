"""The receivables batch, exchange rates and the portfolio."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import CreditFileServiceDep, CustomerServiceDep, Idempotent, JsonBody, Read, Receivables
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.customers.schemas import BatchResult, RatesIn, RatesOut, ReceivablesBatch
from app.errors import Conflict, Forbidden, Unauthenticated
from app.readside.credit_file import Portfolio

router = APIRouter(prefix="/v1", tags=["receivables"])

WRITE_PROBLEMS = (*JSON_WRITE_PROBLEMS, Conflict)


@router.post(
    "/receivables/batch",
    response_model=BatchResult,
    dependencies=[JsonBody],
    responses=problem_responses(*WRITE_PROBLEMS),
    summary="Sync many invoices at once: all or nothing, errors named per row (invoices[17].due_date)",
)
async def sync_receivables(
    body: ReceivablesBatch, _principal: Receivables, service: CustomerServiceDep, idempotent: Idempotent
) -> Response:
    return await idempotent.run(lambda recorder: service.sync_batch(body, recorder))


@router.put(
    "/rates",
    response_model=RatesOut,
    dependencies=[JsonBody],
    responses=problem_responses(*WRITE_PROBLEMS),
    summary="Push exchange rates: units of each currency per one unit of base",
)
async def put_rates(
    body: RatesIn, _principal: Receivables, service: CustomerServiceDep, idempotent: Idempotent
) -> Response:
    """Exposure and limits in other currencies are converted with these; a decision keeps the rates it used."""
    return await idempotent.run(lambda recorder: service.put_rates(body, recorder))


@router.get("/rates", responses=problem_responses(Unauthenticated, Forbidden), summary="The exchange rates known")
async def list_rates(_principal: Read, service: CustomerServiceDep) -> RatesOut:
    return await service.list_rates()


@router.get(
    "/portfolio",
    responses=problem_responses(Unauthenticated, Forbidden),
    summary="Total exposure, overdue by age, DSO, customers over limit, blocked customers",
)
async def portfolio(_principal: Read, service: CreditFileServiceDep) -> Portfolio:
    return await service.portfolio()
