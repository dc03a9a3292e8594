"""A customer's credit file as the console shows it: the API's credit file plus its exposure curve and ageing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from markupsafe import Markup

from app.console import repository
from app.console.charts import Point, ageing_chart, exposure_chart
from app.customers import repository as customers
from app.customers.rates import convert_sums
from app.db import Database, utcnow
from app.money import from_minor, quantize
from app.readside.credit_file import CreditFile, CreditFileService

PERIOD_DAYS = 90
MAX_POINTS = 200


@dataclass(frozen=True, slots=True)
class CreditFileView:
    file: CreditFile
    points: list[Point]
    buckets: list[tuple[str, Decimal]]
    unpriced: list[str]
    exposure_svg: Markup
    ageing_svg: Markup


async def credit_file_view(database: Database, credit_files: CreditFileService, customer_id: str) -> CreditFileView:
    file = await credit_files.credit_file(customer_id)
    now = utcnow()
    async with database.read() as session:
        rows = await repository.exposure_points(session, customer_id, now - timedelta(days=PERIOD_DAYS), MAX_POINTS)
        aged = await repository.ageing(session, customer_id, now.date())
        rates = await customers.rate_table(session)
    currency = file.currency
    unpriced: set[str] = set()
    points = []
    for decided_at, row_currency, exposure_minor, limit_minor in rows:
        rate = rates.rate(currency, row_currency)
        if rate is None:
            unpriced.add(row_currency)
            continue
        exposure = quantize(from_minor(exposure_minor, row_currency) * rate, currency)
        points.append(Point(decided_at, exposure, quantize(from_minor(limit_minor, row_currency) * rate, currency)))
    limit = Decimal(file.limit.amount) if file.limit.amount is not None else None
    points.append(Point(file.as_of, Decimal(file.exposure.total), limit))
    by_bucket: dict[str, dict[str, int]] = defaultdict(dict)
    for bucket, row_currency, amount in aged:
        by_bucket[bucket][row_currency] = by_bucket[bucket].get(row_currency, 0) + int(amount)
    buckets = []
    for name in repository.AGEING_BUCKETS:
        converted = convert_sums(by_bucket.get(name, {}), currency, rates)
        unpriced |= converted.unpriced
        buckets.append((name, converted.amount))
    return CreditFileView(
        file=file,
        points=sorted(points, key=lambda point: point.at),
        buckets=buckets,
        unpriced=sorted(unpriced),
        exposure_svg=exposure_chart(points, currency),
        ageing_svg=ageing_chart(buckets, currency),
    )
