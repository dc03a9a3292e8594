"""The credit insurance policy's duties: the queue of overdue invoices to report to the insurer, and its export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.api.customers import WRITE_PROBLEMS, CustomerId, InvoiceId
from app.api.deps import (
    Idempotent,
    InsurerRequestServiceDep,
    JsonBody,
    OverdueReportServiceDep,
    Read,
    require_any_scope,
    require_scope,
)
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.auth import Principal
from app.errors import Forbidden, InvalidRequest, NotFound, Unauthenticated
from app.insurance.insurer_requests import AlreadyAnswered, InsurerRequestOut, PollResult
from app.insurance.insurers import InsurerAnswer
from app.insurance.reporting import (
    AlreadyReported,
    NotReportable,
    OverdueReportIn,
    OverdueReportItem,
    OverdueReportQueue,
    StateFilter,
)

router = APIRouter(prefix="/v1/insurance", tags=["insurance"])
CreditManager = Annotated[Principal, Depends(require_any_scope("admin", "review"))]
Admin = Annotated[Principal, Depends(require_scope("admin"))]
RequestId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]
State = Annotated[StateFilter, Query(description="to_report (default): still to report; reported: done; all: both.")]


@router.get(
    "/overdue-reports",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Overdue invoices of insured customers to report to the insurer, with their deadline and state",
)
async def overdue_reports(
    _principal: Read, service: OverdueReportServiceDep, state: State = "to_report"
) -> OverdueReportQueue:
    """Computed on each read: an invoice open `insurance.reporting.after_days` past its due date, of a customer
    with a cover in force, is in the queue that day; `late` once its deadline has passed without a report."""
    return await service.queue(state)


@router.get(
    "/overdue-reports/export",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The queue's items, one row each."},
        **problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    },
    summary="The reporting queue as CSV",
)
async def export_overdue_reports(
    _principal: Read, service: OverdueReportServiceDep, state: State = "to_report"
) -> Response:
    return Response(
        await service.export_csv(state),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="overdue-reports.csv"'},
    )


@router.post(
    "/overdue-reports/{customer_id}/{invoice_id}",
    status_code=201,
    response_model=OverdueReportItem,
    dependencies=[JsonBody],
    responses=problem_responses(*WRITE_PROBLEMS, NotFound, NotReportable, AlreadyReported),
    summary="Record that an overdue invoice was reported to the insurer (audited)",
)
async def mark_reported(
    customer_id: CustomerId,
    invoice_id: InvoiceId,
    body: OverdueReportIn,
    principal: CreditManager,
    service: OverdueReportServiceDep,
    idempotent: Idempotent,
) -> Response:
    return await idempotent.run(
        lambda recorder: service.mark_reported(customer_id, invoice_id, body, recorder, actor=principal.key_id)
    )


@router.get(
    "/limit-requests/{request_id}",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="One limit request to the insurer, with its answer once given",
)
async def limit_request(
    request_id: RequestId, _principal: Read, service: InsurerRequestServiceDep
) -> InsurerRequestOut:
    return await service.get(request_id)


@router.post(
    "/limit-requests/{request_id}/answer",
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS, NotFound, AlreadyAnswered),
    summary="The insurer's answer to a limit request (its callback): the cover follows it",
)
async def answer_limit_request(
    request_id: RequestId, body: InsurerAnswer, principal: Admin, service: InsurerRequestServiceDep
) -> InsurerRequestOut:
    """approved, partly_approved (amount), conditional (amount, conditions) or refused. In one transaction: the
    request answered, the cover changed (a version, `cover.changed`), `insurer_request.answered` audited and the
    webhook `customer.insurer_request_answered` queued. A second answer is 409 `already_answered`."""
    return await service.answer(request_id, body, actor=principal.key_id)


@router.post(
    "/poll",
    responses=problem_responses(Unauthenticated, Forbidden),
    summary="Ask the insurer about pending limit requests and apply the answers given",
)
async def poll_limit_requests(
    _principal: Admin,
    service: InsurerRequestServiceDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> PollResult:
    """For insurers without callbacks: run it from cron (or after a while); requests still investigated stay
    pending, an insurer that cannot be reached is counted as `failed` and asked again next time."""
    return await service.poll(limit)
