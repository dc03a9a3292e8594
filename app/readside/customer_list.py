"""Finding a customer: search by name, id or registration number, filters and sorts over the figures the
credit file shows (`app.decisions.standing`: what a decision taken now would be given), with a cursor."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import orjson
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.active_policy import ActivePolicy
from app.customers import repository
from app.customers.models import Customer
from app.db import Database, utcnow
from app.decisions.standing import Standing, credit_standings
from app.errors import InvalidCursor
from app.money import quantize
from app.providers.base import CompanyQuery, registration_key
from app.providers.reports import ReportService
from app.schemas import Money

CustomerSort = Literal["exposure", "utilisation"]


@dataclass(frozen=True, slots=True)
class CustomerFilters:
    q: str | None = None
    blocked: bool | None = None
    over_limit: bool | None = None
    with_overdue: bool | None = None
    segment: str | None = None
    group: str | None = None


class CustomerListItem(BaseModel):
    id: str
    name: str | None
    country: str
    registration_number: str | None
    segment: str | None
    group_id: str | None = Field(description="The group's root customer (the customer's parent, or itself).")
    blocked: bool
    currency: str = Field(description="The customer's limit currency (the policy's when none is set).")
    limit: Money | None = Field(description="As the credit file: the limit a decision taken now has.")
    exposure: Money
    available_credit: Money | None
    utilisation: Decimal | None = Field(description="Exposure ÷ limit, to four places; null without a limit.")
    overdue_amount: Money
    oldest_overdue_days: int


class CustomerPage(BaseModel):
    items: list[CustomerListItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class CustomerListService:
    def __init__(self, database: Database, active_policy: ActivePolicy, reports: ReportService) -> None:
        self.database = database
        self.active_policy = active_policy
        self.reports = reports

    async def names(self, customer_ids: Sequence[str]) -> dict[str, str]:
        """The names of those of the customers that have one (a page's worth of ids)."""
        if not customer_ids:
            return {}
        query = select(Customer.id, Customer.name).where(Customer.id.in_(sorted(set(customer_ids))))
        async with self.database.read() as session:
            return {customer_id: name for customer_id, name in await session.execute(query) if name}

    async def search(
        self, filters: CustomerFilters, sort: CustomerSort, limit: int, cursor: str | None
    ) -> CustomerPage:
        """Highest first (ties by id). The figures are computed on each read for every matching customer, so a
        page's position is the (figure, id) of the row before it: a customer whose figure moved meanwhile may
        appear on two pages or on none."""
        position = decode_position(cursor) if cursor else None
        policy = await self.active_policy()
        now = utcnow()
        async with self.database.read() as session:
            matched = await _matching(session, filters)
            rates = await repository.rate_table(session)
            companies = {
                row.id: CompanyQuery(row.country, row.registration_number, row.name)
                for row in matched
                if row.registration_number
            }
            cached = await self.reports.cached_of_many(session, list(companies.values()), policy)
            reports = {
                customer_id: found.facts
                for customer_id, company in companies.items()
                if (found := cached.get((company.country, company.number_key))) is not None
            }
            standings = await credit_standings(session, matched, reports, policy, rates, now)
        items = [_item(row, standings[row.id]) for row in matched]
        items = [item for item in items if _passes(item, filters)]
        items.sort(key=lambda item: (_key(item, sort), item.id))
        if position is not None:
            items = [item for item in items if (_key(item, sort), item.id) > position]
        page = items[:limit]
        next_cursor = encode_position(_key(page[-1], sort), page[-1].id) if len(items) > limit else None
        return CustomerPage(items=page, next_cursor=next_cursor)


async def _matching(session: AsyncSession, filters: CustomerFilters) -> list[Customer]:
    query = select(Customer)
    if filters.q:
        pattern = "%" + filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        number = registration_key(filters.q)
        conditions = [
            func.lower(Customer.name).like(pattern, escape="\\"),
            func.lower(Customer.id).like(pattern, escape="\\"),
            func.lower(Customer.registration_number).like(pattern, escape="\\"),
        ]
        if number:
            # "NL 1234 5670" finds 12345670: the registration number as the report cache keys it.
            spaced = func.replace(func.replace(func.replace(Customer.registration_number, " ", ""), ".", ""), "-", "")
            conditions.append(func.lower(spaced).like(f"%{number.lower()}%"))
        query = query.where(or_(*conditions))
    if filters.blocked is not None:
        query = query.where(Customer.blocked.is_(filters.blocked))
    if filters.segment is not None:
        query = query.where(Customer.segment == filters.segment)
    if filters.group is not None:
        query = query.where(or_(Customer.id == filters.group, Customer.parent_id == filters.group))
    return list((await session.scalars(query.order_by(Customer.id))).all())


def _item(row: Customer, standing: Standing) -> CustomerListItem:
    evaluation, own, currency = standing.evaluation, standing.own, standing.currency
    limit = quantize(evaluation.credit_limit, currency) if standing.priced else None
    exposure = own.total
    utilisation = None if limit is None or limit <= 0 else (exposure / limit).quantize(Decimal("0.0001"))
    return CustomerListItem(
        id=row.id,
        name=row.name,
        country=row.country,
        registration_number=row.registration_number,
        segment=row.segment,
        group_id=row.parent_id or (row.id if row.group_limit_minor is not None else None),
        blocked=row.blocked,
        currency=currency,
        limit=None if limit is None else str(limit),
        exposure=str(exposure),
        available_credit=str(quantize(evaluation.available_credit, currency)) if standing.priced else None,
        utilisation=utilisation,
        overdue_amount=str(own.overdue_amount),
        oldest_overdue_days=own.oldest_overdue_days,
    )


def _passes(item: CustomerListItem, filters: CustomerFilters) -> bool:
    over = item.limit is not None and Decimal(item.exposure) > Decimal(item.limit)
    overdue = Decimal(item.overdue_amount) > 0
    return (filters.over_limit is None or over is filters.over_limit) and (
        filters.with_overdue is None or overdue is filters.with_overdue
    )


def _key(item: CustomerListItem, sort: CustomerSort) -> Decimal:
    """Ascending key of a descending order: a customer without a limit comes after every utilisation."""
    if sort == "exposure":
        return -Decimal(item.exposure)
    return Decimal(1) if item.utilisation is None else -item.utilisation


def encode_position(key: Decimal, customer_id: str) -> str:
    """A page's position: the sort key and id of the row before it (any sort reads it)."""
    raw = orjson.dumps([str(key), customer_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(token: str) -> tuple[Decimal, str]:
    try:
        key, customer_id = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(key, str) or not isinstance(customer_id, str):
            raise ValueError("not a position")
        position = Decimal(key)
        if not position.is_finite():
            raise ValueError("not a position")
        return position, customer_id
    except (ValueError, TypeError, ArithmeticError, orjson.JSONDecodeError):
        raise InvalidCursor() from None
