"""The portfolio's per-customer figures: available credit, utilisation, overdue, concentration, risk classes,
and the DSO trend. Computed from what `CreditFileService.portfolio` has read, in the policy's currency."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from app.money import quantize
from app.schemas import Money

TOP = 10
# Exposure as a share of the limit: the upper bound of each band (the last, over the limit, has none).
UTILISATION_BANDS = (("up to 50%", Decimal("0.5")), ("50-80%", Decimal("0.8")), ("80-100%", Decimal(1)))
OVER_LIMIT_BAND, NO_LIMIT_BAND = "over 100%", "no limit"
TREND_MONTHS = 6


class UtilisationBand(BaseModel):
    band: str = Field(description="Exposure as a share of the limit: up to 50%, 50-80%, 80-100%, over 100%, no limit.")
    customers: int
    exposure: Money


class OverdueCustomer(BaseModel):
    customer_id: str
    overdue: Money
    oldest_overdue_days: int


class TopExposure(BaseModel):
    customer_id: str
    exposure: Money
    share: Decimal = Field(description="Of the total exposure, 0 to 1.")


class DsoPoint(BaseModel):
    as_of: date = Field(description="A month's last day; the last point is today.")
    dso_days: Decimal | None


@dataclass(frozen=True, slots=True)
class CustomerFigure:
    """One customer with exposure, in the policy's currency; `limit` None when it has none."""

    customer_id: str
    exposure: Decimal
    limit: Decimal | None
    overdue: Decimal
    oldest_overdue_days: int
    risk_class: str
    blocked: bool


@dataclass(frozen=True, slots=True)
class Figures:
    available_credit: Decimal
    utilisation: list[UtilisationBand]
    customers_with_overdue: list[OverdueCustomer]
    top_exposures: list[TopExposure]
    top_share: Decimal | None
    exposure_by_risk_class: dict[str, str]


def figures(customers: Iterable[CustomerFigure], total: Decimal, currency: str) -> Figures:
    found = [figure for figure in customers if figure.exposure > 0 or figure.limit]
    available = sum(
        (max(Decimal(0), figure.limit - figure.exposure) for figure in found if figure.limit and not figure.blocked),
        Decimal(0),
    )
    bands: dict[str, list[Decimal]] = {name: [] for name, _ in UTILISATION_BANDS}
    bands[OVER_LIMIT_BAND], bands[NO_LIMIT_BAND] = [], []
    for figure in found:
        bands[_band(figure)].append(figure.exposure)
    overdue = sorted(
        (figure for figure in found if figure.overdue > 0), key=lambda figure: (-figure.overdue, figure.customer_id)
    )
    largest = sorted(found, key=lambda figure: (-figure.exposure, figure.customer_id))[:TOP]
    largest = [figure for figure in largest if figure.exposure > 0]
    by_class: dict[str, Decimal] = {}
    for figure in found:
        by_class[figure.risk_class] = by_class.get(figure.risk_class, Decimal(0)) + figure.exposure
    return Figures(
        available_credit=available,
        utilisation=[
            UtilisationBand(
                band=name, customers=len(amounts), exposure=str(quantize(sum(amounts, Decimal(0)), currency))
            )
            for name, amounts in bands.items()
        ],
        customers_with_overdue=[
            OverdueCustomer(
                customer_id=figure.customer_id,
                overdue=str(figure.overdue),
                oldest_overdue_days=figure.oldest_overdue_days,
            )
            for figure in overdue
        ],
        top_exposures=[
            TopExposure(
                customer_id=figure.customer_id, exposure=str(figure.exposure), share=_share(figure.exposure, total)
            )
            for figure in largest
        ],
        top_share=_share(sum((figure.exposure for figure in largest), Decimal(0)), total) if total > 0 else None,
        exposure_by_risk_class={name: str(by_class[name]) for name in sorted(by_class)},
    )


def _band(figure: CustomerFigure) -> str:
    if not figure.limit:
        return NO_LIMIT_BAND
    used = figure.exposure / figure.limit
    for name, bound in UTILISATION_BANDS:
        if used <= bound:
            return name
    return OVER_LIMIT_BAND


def _share(part: Decimal, total: Decimal) -> Decimal:
    return (part / total).quantize(Decimal("0.0001")) if total > 0 else Decimal(0)


def month_ends(today: date, months: int = TREND_MONTHS) -> list[date]:
    """The last days of the `months` - 1 months before today's, oldest first (today is the last point)."""
    ends = []
    year, month = today.year, today.month
    for _ in range(months - 1):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        ends.append(date(year, month, calendar.monthrange(year, month)[1]))
    return list(reversed(ends))
