"""Limits on the console: the limits due for review, the open limit requests, and the lost-sales report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.console.web import ConsoleRoute, ConsoleUser, checked_form, needs, render
from app.errors import InvalidRequest, ProblemError
from app.idempotency.service import Recorder
from app.limits.lost_sales import to_csv
from app.limits.schemas import LimitReviewIn
from app.services import services_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(needs("read"))]
# The limits page is a reviewer's work list too: it decides the open requests there.
LimitsReader = Annotated[ConsoleUser, Depends(needs("read", "review"))]
ReviewForm = Annotated[ConsoleUser, Depends(checked_form("review"))]
LIMIT_REVIEW_OUTCOMES = ("approve", "refuse")
# What a refused review of a limit request is told, by the problem's code; others show the problem's detail.
_REFUSALS = {
    "requester_cannot_review": "This key asked for the limit: another reviewer has to decide it.",
    "four_eyes_required_other_reviewer": "Four eyes: another reviewer has to take the second review of this request.",
    "limit_request_not_pending": "This request is no longer open.",
    "limit_request_expired": "This request lapsed before it was decided.",
}


@router.get("/limits")
async def limits(
    request: Request,
    user: LimitsReader,
    due_by: str | None = None,
    reviewed: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    errors: dict[str, str] = {}
    day = None
    if due_by:
        try:
            day = date.fromisoformat(due_by)
        except ValueError:
            errors["due_by"] = "a day such as 2026-12-31"
    return await _limits_page(request, user, day, {"due_by": due_by or ""}, errors, reviewed=reviewed)


async def _limits_page(
    request: Request,
    user: ConsoleUser,
    day: date | None,
    form: dict[str, str],
    errors: dict[str, str],
    *,
    reviewed: str | None = None,
    refused: str | None = None,
    refused_id: str | None = None,
    review_errors: dict[str, str] | None = None,
    status_code: int | None = None,
) -> Response:
    services = services_of(request.app)
    queue = await services.limit_reviews.queue(day, 500)
    requests = await services.limit_requests.list("pending", None, 200)
    return render(
        request,
        "limits.html",
        user,
        queue=queue,
        requests=requests.items,
        outcomes=LIMIT_REVIEW_OUTCOMES,
        reviewed=reviewed,
        refused=refused,
        refused_id=refused_id,
        review_errors=review_errors or {},
        form=form,
        errors=errors,
        status_code=status_code or (422 if errors or review_errors else 200),
    )


@router.post("/limits/requests/{request_id}")
async def review_limit_request(
    request: Request,
    user: ReviewForm,
    request_id: Annotated[str, Path(min_length=1, max_length=36)],
    outcome: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A reviewer approves or refuses an open limit request, as `POST /v1/limit-requests/{id}/review` does; a
    refused review shows the page again with the form filled in and the problem named."""
    form = {"due_by": "", "outcome": outcome, "reason": reason}
    try:
        body = LimitReviewIn.model_validate({"outcome": outcome, "reason": reason})
    except ValidationError as exc:
        fields = {str(error["loc"][0]) if error["loc"] else "outcome": str(error["msg"]) for error in exc.errors()}
        named = {name: message.removeprefix("Value error, ") for name, message in fields.items()}
        return await _limits_page(
            request,
            user,
            None,
            form,
            {},
            refused="Check the highlighted fields.",
            refused_id=request_id,
            review_errors=named,
        )
    try:
        await services_of(request.app).limit_requests.review(request_id, body, user.principal, Recorder(None))
    except ProblemError as exc:
        if exc.status >= 500:
            raise
        return await _limits_page(
            request,
            user,
            None,
            form,
            {},
            refused=_REFUSALS.get(exc.code, exc.detail or "The review was not taken."),
            refused_id=request_id,
            status_code=exc.status,
        )
    return RedirectResponse(f"/console/limits?reviewed={request_id}", status_code=303)


@router.get("/lost-sales")
async def lost_sales(
    request: Request, user: Reader, date_from: str | None = None, date_to: str | None = None
) -> Response:
    """The lost-sales report's totals per month and the customers behind them (the API's report)."""
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        try:
            days[name] = date.fromisoformat(value) if value else None
        except ValueError:
            errors[name] = "a day such as 2026-12-31"
    today = date.today()
    first = days.get("date_from") or today - timedelta(days=90)
    last = days.get("date_to") or today
    report = None
    if not errors:
        try:
            report = await services_of(request.app).lost_sales.report(first, last, None, None)
        except InvalidRequest as exc:
            errors["date_to"] = exc.errors[0].message if exc.errors else str(exc)
    return render(
        request,
        "lost_sales.html",
        user,
        report=report,
        form={"date_from": first.isoformat(), "date_to": last.isoformat()},
        errors=errors,
        status_code=422 if errors else 200,
    )


@router.get("/lost-sales/export")
async def lost_sales_export(
    request: Request, user: Reader, date_from: str | None = None, date_to: str | None = None
) -> Response:
    """The report's orders as CSV, the API's export."""
    try:
        first = date.fromisoformat(date_from) if date_from else date.today() - timedelta(days=90)
        last = date.fromisoformat(date_to) if date_to else date.today()
        report = await services_of(request.app).lost_sales.report(first, last, None, None)
    except (ValueError, InvalidRequest):
        return Response("not a valid period", status_code=422, media_type="text/plain; charset=utf-8")
    return Response(
        to_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="lost-sales.csv"'},
    )
