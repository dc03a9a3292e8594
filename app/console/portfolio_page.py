"""The portfolio page: `GET /v1/portfolio`'s figures (the same service), each as a chart with its table."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.console.charts import bar_chart, ranking_chart, trend_chart
from app.console.web import ConsoleRoute, ConsoleUser, needs, render
from app.services import services_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(needs("read"))]
LISTED = 25  # rows of each customer list on the page


def _percent(share: Decimal) -> str:
    return f"{share * 100:.1f}%"


@router.get("/portfolio")
async def portfolio(request: Request, user: Reader) -> Response:
    service = services_of(request.app).credit_files
    figures = await service.portfolio()
    currency = figures.currency
    over = sorted(
        figures.customers_over_limit, key=lambda row: (-(Decimal(row.exposure) - Decimal(row.limit)), row.customer_id)
    )
    charts = {
        "totals": bar_chart(
            "Exposure and available credit",
            "totals",
            [
                ("open receivables", Decimal(figures.open_receivables)),
                ("reserved", Decimal(figures.reserved)),
                ("exposure", Decimal(figures.total_exposure)),
                ("available", Decimal(figures.available_credit)),
            ],
            currency,
        ),
        "ageing": bar_chart(
            "Overdue receivables by days past due",
            "ageing",
            [(f"{name} days", Decimal(amount)) for name, amount in figures.overdue_by_age.items()],
            currency,
            warn=[f"{name} days" for name in figures.overdue_by_age],
        ),
        "dso": trend_chart(
            "DSO trend",
            "dso",
            [(f"{point.as_of:%b %d}", point.dso_days) for point in figures.dso_trend],
            "days",
        ),
        "utilisation": bar_chart(
            "Customers by share of their limit used",
            "utilisation",
            [(band.band, Decimal(band.customers)) for band in figures.utilisation],
            "customers",
            warn=["over 100%"],
            counts=True,
        ),
        "over": ranking_chart(
            "Customers over their limit, by the amount above it",
            "over",
            [(row.customer_id, Decimal(row.exposure) - Decimal(row.limit)) for row in over[:10]],
            currency,
        ),
        "overdue": ranking_chart(
            "Customers with overdue invoices",
            "overdue",
            [(row.customer_id, Decimal(row.overdue)) for row in figures.customers_with_overdue[:10]],
            currency,
        ),
        "top": ranking_chart(
            "The 10 largest exposures",
            "top",
            [(row.customer_id, Decimal(row.exposure)) for row in figures.top_exposures],
            currency,
        ),
        "risk": bar_chart(
            "Exposure by risk class",
            "risk",
            [(name, Decimal(amount)) for name, amount in figures.exposure_by_risk_class.items()],
            currency,
        ),
    }
    return render(
        request,
        "portfolio.html",
        user,
        p=figures,
        charts=charts,
        over=over[:LISTED],
        overdue=figures.customers_with_overdue[:LISTED],
        blocked=figures.blocked_customers[:LISTED],
        listed=LISTED,
        top_share=_percent(figures.top_exposures_share) if figures.top_exposures_share is not None else None,
        percent=_percent,
    )
