"""Payment-behaviour figures as decisions and reads see them: the customer's own and its group's invoices,
payments and requests for longer terms (the last from stored decisions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.customers import repository as customers
from app.customers.behaviour import BehaviourGroup, behaviour_groups, figures_from_rows
from app.customers.models import Customer
from app.customers.rates import RateTable
from app.decisions import repository
from app.policy.behaviour import LONG_WINDOW_DAYS, SHORT_WINDOW_DAYS, BehaviourFigures, TermsRequest


def requests_by_customer(rows: Iterable[Any]) -> dict[str, list[TermsRequest]]:
    requests: dict[str, list[TermsRequest]] = {}
    for row in rows:
        requests.setdefault(row.customer_id, []).append(TermsRequest(row.order_id, row.decided_at.date()))
    return requests


async def behaviour_inputs(
    session: AsyncSession, customer_ids: Sequence[str], *, as_of: date
) -> tuple[Sequence[Any], dict[str, list[TermsRequest]]]:
    """The ledger rows (one statement) and the requests for longer terms (one more) of `customer_ids`."""
    rows = await customers.behaviour_rows(session, customer_ids, as_of - timedelta(days=LONG_WINDOW_DAYS))
    since = datetime.combine(as_of - timedelta(days=SHORT_WINDOW_DAYS), datetime.min.time(), UTC)
    requests = requests_by_customer(await repository.longer_terms_requests(session, customer_ids, since))
    return rows, requests


async def figures_of(
    session: AsyncSession, listed: Sequence[Customer], *, as_of: date, currency: str, rates: RateTable
) -> dict[str, BehaviourFigures]:
    """Each customer's figures, with its group's when it is in one: three statements for all of `listed`."""
    groups: Mapping[str, BehaviourGroup] = await behaviour_groups(session, listed)
    everyone = sorted({row.id for row in listed} | {m for group in groups.values() for m in group.members})
    rows, requests = await behaviour_inputs(session, everyone, as_of=as_of)
    return figures_from_rows(
        rows, [row.id for row in listed], as_of=as_of, currency=currency, rates=rates, requests=requests, groups=groups
    )
