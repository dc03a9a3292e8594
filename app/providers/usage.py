"""Spend on providers, per provider and UTC day: calls, cost, cache hits and errors."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from pydantic import BaseModel, Field

from app.db import Database
from app.money import from_minor
from app.providers import repository
from app.providers.purchase import NO_CURRENCY


class CostOut(BaseModel):
    amount: str = Field(examples=["19.00"])
    currency: str = Field(examples=["EUR"])


class UsageDay(BaseModel):
    provider: str
    day: date
    calls: int = Field(description="Calls to the provider (each with its retries), whatever their outcome.")
    reports_bought: int
    not_found: int
    errors: int = Field(description="Calls that ended unavailable (timeout, 5xx, 429...) or with a bad response.")
    cache_hits: int = Field(description="Decisions served a fresh report from the cache instead of a purchase.")
    stale_hits: int = Field(description="Decisions served an expired report because no provider was available.")
    cost: list[CostOut] = Field(description="What the bought reports cost, per currency.")


class UsagePage(BaseModel):
    day_from: date
    day_to: date
    items: list[UsageDay] = Field(description="Newest day first, then by provider.")


async def provider_usage(database: Database, day_from: date, day_to: date, provider: str | None) -> UsagePage:
    async with database.read() as session:
        calls = await repository.call_totals(session, day_from, day_to, provider)
        hits = await repository.cache_hit_totals(session, day_from, day_to, provider)
    days: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    costs: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, day, currency, count, cost_minor, errors, not_found in calls:
        totals = days[(name, day)]
        totals["calls"] += count
        totals["errors"] += int(errors or 0)
        totals["not_found"] += int(not_found or 0)
        totals["reports_bought"] += count - int(errors or 0) - int(not_found or 0)
        if currency != NO_CURRENCY and cost_minor:
            costs[(name, day)][currency] += int(cost_minor)
    for row in hits:
        totals = days[(row.provider, row.day)]
        totals["cache_hits"] += row.hits
        totals["stale_hits"] += row.stale_hits
    items = [
        UsageDay(
            provider=name,
            day=day,
            calls=totals["calls"],
            reports_bought=totals["reports_bought"],
            not_found=totals["not_found"],
            errors=totals["errors"],
            cache_hits=totals["cache_hits"],
            stale_hits=totals["stale_hits"],
            cost=[
                CostOut(amount=str(from_minor(units, currency)), currency=currency)
                for currency, units in sorted(costs[(name, day)].items())
            ],
        )
        for (name, day), totals in days.items()
    ]
    items.sort(key=lambda item: (-item.day.toordinal(), item.provider))
    return UsagePage(day_from=day_from, day_to=day_to, items=items)
