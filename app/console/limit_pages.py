"""Limits on the console: the limits due for review, the open limit requests, and the lost-sales report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.console.web import ConsoleRoute, ConsoleUser, needs, render
from app.errors import InvalidRequest
from app.limits.lost_sales import to_csv
from app.services import services_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(needs("read"))]


@router.get("/limits")
async def limits(request: Request, user: Reader, due_by: str | None = None) -> Response:
    services = services_of(request.app)
    errors: dict[str, str] = {}
    day = None
    if due_by:
        try:
            day = date.fromisoformat(due_by)
        except ValueError:
            errors["due_by"] = "a day such as 2026-12-31"
    queue = await services.limit_reviews.queue(day, 500)
    requests = await services.limit_requests.list("pending", None, 200)
    return render(
        request,
        "limits.html",
        user,
        queue=queue,
        requests=requests.items,
        form={"due_by": due_by or ""},
        errors=errors,
        status_code=422 if errors else 200,
    )


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
