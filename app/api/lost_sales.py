"""The lost-sales report: orders the credit limit kept off credit, in JSON and CSV."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AfterValidator

from app.api.deps import LostSalesServiceDep, require_any_scope
from app.api.problems import problem_responses
from app.auth import Principal
from app.db import utcnow
from app.errors import Forbidden, InvalidRequest, Unauthenticated
from app.fields import AMOUNT_PATTERN
from app.limits.lost_sales import LostSalesReport, to_csv
from app.schema_types import CurrencyCode, IsoDate
from app.schemas import check_currency

router = APIRouter(prefix="/v1/lost-sales", tags=["limit requests"])
Reader = Annotated[Principal, Depends(require_any_scope("read", "sales"))]
DateFrom = Annotated[IsoDate | None, Query(description="First day of the orders (default: 90 days ago).")]
DateTo = Annotated[IsoDate | None, Query(description="Last day, inclusive (default: today); at most two years on.")]
WhatIfLimit = Annotated[
    str | None,
    Query(
        pattern=AMOUNT_PATTERN,
        description="Replay each order with this limit as its customer's manual limit (in the order's currency; "
        "the orders of one currency: `currency`, else the first held-back order's): `what_if` says how many "
        "would have been on credit.",
    ),
]
Currency = Annotated[
    CurrencyCode | None, Query(), AfterValidator(lambda value: None if value is None else check_currency(value))
]


async def _report(
    service: LostSalesServiceDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    what_if_limit: WhatIfLimit = None,
    currency: Currency = None,
) -> LostSalesReport:
    """The report for the query's days (default: the last 90), both routes' query parameters in one place."""
    today = utcnow().date()
    return await service.report(date_from or today - timedelta(days=90), date_to or today, what_if_limit, currency)


# After the principal in each route's parameters: the key is checked before the report is built.
Report = Annotated[LostSalesReport, Depends(_report)]


@router.get(
    "",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Orders refused credit or sent to prepayment because of the limit, by month and customer",
)
async def lost_sales(_principal: Reader, report: Report) -> LostSalesReport:
    """Each order's latest decision counts, when a limit reason (`EXCEEDS_AVAILABLE_CREDIT`, `GROUP_LIMIT`) held
    it back and no block, insolvency, overdue stop, high-risk prepayment or payment behaviour did."""
    return report


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "One row per order."},
        **problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    },
    summary="The lost-sales report's orders as CSV",
)
async def export_lost_sales(_principal: Reader, report: Report) -> Response:
    return Response(
        to_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="lost-sales.csv"'},
    )
