"""Read pages: decision history, one decision, a customer's credit file, provider spend."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.api.streaming import ClosingStreamingResponse
from app.console.customer_actions import case_notes, credit_file_page
from app.console.views import parse_day, start_of_day
from app.console.web import SECURITY_HEADERS, ConsoleRoute, ConsoleUser, needs, render
from app.db import utcnow
from app.decisions.query import DecisionFilters
from app.fields import days_before
from app.readside.customer_list import CustomerFilters
from app.services import services_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(needs("read"))]
OUTCOMES = ("accept", "prepayment", "review", "reject")
PAGE_SIZES = (25, 50, 100)
Text = Annotated[str, Query(max_length=64)]


@router.get("/decisions")
async def decisions(
    request: Request,
    user: Reader,
    customer_id: Text = "",
    order_id: Text = "",
    outcome: Text = "",
    final_outcome: Text = "",
    decided_from: Annotated[str, Query(max_length=10)] = "",
    decided_to: Annotated[str, Query(max_length=10)] = "",
    limit: int = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """History with the API's filters; the day range is in UTC and includes both days."""
    errors: dict[str, str] = {}
    filters = _history_filters(customer_id, order_id, outcome, decided_from, decided_to, errors, final_outcome)
    limit = limit if limit in PAGE_SIZES else 50
    service = services_of(request.app).decisions
    page = None if errors else await service.history(filters, limit, cursor or None)
    names = (
        await services_of(request.app).customer_list.names([item.customer_id for item in page.items]) if page else {}
    )
    form = {
        "customer_id": customer_id,
        "order_id": order_id,
        "outcome": outcome,
        "final_outcome": final_outcome,
        "decided_from": decided_from,
        "decided_to": decided_to,
        "limit": limit,
    }
    query = urlencode({name: value for name, value in form.items() if value})
    return render(
        request,
        "decisions.html",
        user,
        page=page,
        names=names,
        form=form,
        errors=errors,
        outcomes=OUTCOMES,
        page_sizes=PAGE_SIZES,
        paged=cursor is not None,
        next_query=f"{query}&{urlencode({'cursor': page.next_cursor})}" if page and page.next_cursor else None,
        first_query=query,
        export_query=urlencode({name: value for name, value in form.items() if value and name != "limit"}),
    )


def _history_filters(
    customer_id: str,
    order_id: str,
    outcome: str,
    decided_from: str,
    decided_to: str,
    errors: dict[str, str],
    final_outcome: str = "",
) -> DecisionFilters:
    """The history form's fields as the API's filters; what is wrong lands in `errors` by field."""
    first, last = parse_day(decided_from, "decided_from", errors), parse_day(decided_to, "decided_to", errors)
    if outcome and outcome not in OUTCOMES:
        errors["outcome"] = "Choose one of the outcomes."
    if final_outcome and final_outcome not in OUTCOMES:
        errors["final_outcome"] = "Choose one of the outcomes."
    if first and last and first > last:
        errors["decided_to"] = "The last day comes before the first."
    return DecisionFilters(
        customer_id.strip() or None,
        order_id.strip() or None,
        outcome or None,
        start_of_day(first),
        start_of_day(last + timedelta(days=1)) if last and last < date.max else None,
        final_outcome=final_outcome or None,
    )


@router.get("/decisions/export")
async def export(
    request: Request,
    user: Reader,
    customer_id: Text = "",
    order_id: Text = "",
    outcome: Text = "",
    final_outcome: Text = "",
    decided_from: Annotated[str, Query(max_length=10)] = "",
    decided_to: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The history view as CSV: the API's export (`GET /v1/decisions/export`) with the view's filters."""
    errors: dict[str, str] = {}
    filters = _history_filters(customer_id, order_id, outcome, decided_from, decided_to, errors, final_outcome)
    if errors:
        detail = "; ".join(f"{name}: {message}" for name, message in errors.items())
        return render(request, "error.html", user, status_code=422, title="The filters are not valid", detail=detail)
    return ClosingStreamingResponse(
        await services_of(request.app).decisions.export_csv(filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="decisions.csv"', **SECURITY_HEADERS},
    )


@router.get("/decisions/{decision_id}")
async def decision(
    request: Request,
    user: Reader,
    decision_id: Annotated[str, Path(max_length=64)],
    noted: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    service = services_of(request.app).decisions
    detail = await service.get(decision_id)
    reviews = services_of(request.app).reviews
    history = await reviews.reviews(decision_id) if detail.outcome == "review" else []
    return render(
        request,
        "decision.html",
        user,
        decision=detail,
        reviews=history,
        exposure=detail.inputs.get("exposure", {}),
        customer=detail.inputs.get("customer", {}),
        snapshot=detail.report_snapshot or {},
        # A settled decision shows its review history instead; the queue has no place for it any more.
        reviewable=detail.outcome == "review" and detail.settled_at is None and user.can("review"),
        notes=await case_notes(request, detail.customer_id, decision_id),
        noted=noted == "1",
    )


@router.get("/customers")
async def find_customer(
    request: Request,
    user: Reader,
    customer_id: Text = "",
    q: Annotated[str, Query(max_length=100)] = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Search by name, id or registration number with the API's customer list (`GET /v1/customers`); an
    exact id (the older form's `customer_id`) opens the file at once."""
    if customer_id.strip():
        return RedirectResponse(f"/console/customers/{quote(customer_id.strip(), safe='')}", status_code=303)
    service = services_of(request.app).customer_list
    page = None
    if q.strip():
        page = await service.search(CustomerFilters(q=q.strip()), "exposure", 50, cursor or None)
    next_query = urlencode({"q": q.strip(), "cursor": page.next_cursor}) if page and page.next_cursor else None
    return render(request, "customer_search.html", user, page=page, q=q.strip(), next_query=next_query)


@router.get("/customers/{customer_id}")
async def customer(
    request: Request,
    user: Reader,
    customer_id: Annotated[str, Path(max_length=64)],
    done: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    return await credit_file_page(request, user, customer_id, done=done)


@router.get("/signals")
async def signals(request: Request, user: Reader) -> Response:
    """The open warning signals, the most exposed customers first (`GET /v1/signals`)."""
    page = await services_of(request.app).signals.by_exposure("open", 200)
    return render(request, "signals.html", user, signals=page.signals)


@router.get("/spend")
async def spend(
    request: Request,
    user: Reader,
    day_from: Annotated[str, Query(max_length=10)] = "",
    day_to: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    errors: dict[str, str] = {}
    last = parse_day(day_to, "day_to", errors) or utcnow().date()
    first = parse_day(day_from, "day_from", errors) or days_before(last, 30)
    if first > last or (last - first).days > 366:
        errors["day_from"] = "The first day must not be after the last, and the range at most 366 days."
    page = None
    if not errors:
        page = await services_of(request.app).reports.usage(first, last, None)
    form = {"day_from": first.isoformat(), "day_to": last.isoformat()}
    return render(request, "spend.html", user, page=page, form=form, errors=errors)
