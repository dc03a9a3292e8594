"""Every query on the provider tables: the report cache, leases, the spend ledger and the insurer's limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import CursorResult, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.chunks import chunks
from app.db import Reader, WriteSession, core, exact_sum, table_of
from app.providers.models import CreditReportRecord, InsurerLimit, ProviderCacheHits, ProviderCall, ReportLease

ERROR_OUTCOMES = ("unavailable", "bad_response")


def _insert(session: WriteSession, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT on both PostgreSQL and SQLite."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


# --- the report cache -------------------------------------------------------------------------------


# Every decision's cache lookup: built once.
LATEST_SNAPSHOTS = (
    select(CreditReportRecord.provider, CreditReportRecord.snapshot)
    .where(
        CreditReportRecord.country == bindparam("country"),
        CreditReportRecord.registration_number == bindparam("registration_number"),
        CreditReportRecord.provider.in_(bindparam("providers", expanding=True)),
    )
    .order_by(CreditReportRecord.fetched_at.desc())
    .limit(50)
)


async def latest_snapshots(
    session: AsyncSession, providers: Sequence[str], country: str, registration_number: str
) -> dict[str, dict[str, Any]]:
    """The newest stored report of a company from each provider (snapshots only: the raw payload stays put)."""
    parameters = {"country": country, "registration_number": registration_number, "providers": list(providers)}
    rows = await session.execute(LATEST_SNAPSHOTS, parameters)
    newest: dict[str, dict[str, Any]] = {}
    for provider, snapshot in rows:
        newest.setdefault(provider, snapshot)
    return newest


_newest_first = (
    func.row_number()
    .over(
        partition_by=(CreditReportRecord.country, CreditReportRecord.registration_number, CreditReportRecord.provider),
        order_by=CreditReportRecord.fetched_at.desc(),
    )
    .label("newest_first")
)
_RANKED = (
    select(
        CreditReportRecord.country,
        CreditReportRecord.registration_number,
        CreditReportRecord.provider,
        CreditReportRecord.snapshot,
        _newest_first,
    )
    .where(
        # Each column against its own list, not the pairs as one row value: SQLite then looks each combination up
        # in the company index, where with `(country, number) IN (VALUES ...)` it scanned the whole index for
        # more than one company. The few combinations that are no wanted company are left out after the read.
        CreditReportRecord.country.in_(bindparam("countries", expanding=True)),
        CreditReportRecord.registration_number.in_(bindparam("numbers", expanding=True)),
        CreditReportRecord.provider.in_(bindparam("providers", expanding=True)),
    )
    .subquery()
)
# Many decisions' cache lookups in one statement: each company's newest report from each provider.
LATEST_SNAPSHOTS_OF_MANY = select(
    _RANKED.c.country, _RANKED.c.registration_number, _RANKED.c.provider, _RANKED.c.snapshot
).where(_RANKED.c.newest_first == 1)


async def latest_snapshots_of_many(
    session: Reader, providers: Sequence[str], companies: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """`latest_snapshots` for several (country, registration key) pairs at once."""
    wanted = set(companies)
    parameters = {
        "countries": sorted({country for country, _ in wanted}),
        "numbers": sorted({number for _, number in wanted}),
        "providers": list(providers),
    }
    newest: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for country, number, provider, snapshot in await (await core(session)).execute(
        LATEST_SNAPSHOTS_OF_MANY, parameters
    ):
        if (country, number) in wanted:
            newest.setdefault((country, number), {})[provider] = snapshot
    return newest


async def insert_report(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(table_of(CreditReportRecord)), values)


# --- purchase leases ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeaseState:
    acquired: bool
    state: str | None  # the other holder's state when not acquired; None when the lease just vanished


async def acquire_lease(
    session: WriteSession, key: str, holder: str, now: datetime, expires_at: datetime
) -> LeaseState:
    """Take the lease if nobody holds it or the last holder's expired; otherwise say what the holder is at."""
    statement = (
        _insert(session, ReportLease)
        .values(key=key, holder=holder, state="buying", expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if _rowcount(await session.execute(statement)) == 1:
        return LeaseState(True, None)
    takeover = (
        update(ReportLease)
        .where(ReportLease.key == key, ReportLease.expires_at <= now)
        .values(holder=holder, state="buying", expires_at=expires_at)
    )
    if _rowcount(await session.execute(takeover)) == 1:
        return LeaseState(True, None)
    state = await session.scalar(select(ReportLease.state).where(ReportLease.key == key))
    return LeaseState(False, state)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


async def release_lease(session: WriteSession, key: str, holder: str) -> None:
    await session.execute(delete(ReportLease).where(ReportLease.key == key, ReportLease.holder == holder))


async def settle_lease(session: WriteSession, key: str, holder: str, state: str, expires_at: datetime) -> None:
    """Leave an answer (e.g. not_found) on the lease for the holder's waiters until `expires_at`."""
    await session.execute(
        update(ReportLease)
        .where(ReportLease.key == key, ReportLease.holder == holder)
        .values(state=state, expires_at=expires_at)
    )


# --- spend ------------------------------------------------------------------------------------------


async def record_call(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(ProviderCall).values(**values))


async def count_cache_hits(session: WriteSession, provider: str, day: date, *, stale: bool, count: int) -> None:
    hits, stale_hits = (0, count) if stale else (count, 0)
    table = ProviderCacheHits.__table__
    statement = _insert(session, ProviderCacheHits).values(provider=provider, day=day, hits=hits, stale_hits=stale_hits)
    statement = statement.on_conflict_do_update(
        index_elements=["provider", "day"],
        set_={"hits": table.c.hits + hits, "stale_hits": table.c.stale_hits + stale_hits},
    )
    await session.execute(statement)


async def call_totals(
    session: AsyncSession, day_from: date, day_to: date, provider: str | None
) -> list[tuple[str, date, str, int, int, int, int]]:
    """Calls, cost, errors and not-founds per provider, day and cost currency."""
    errors = func.sum(case((ProviderCall.outcome.in_(ERROR_OUTCOMES), 1), else_=0))
    not_found = func.sum(case((ProviderCall.outcome == "not_found", 1), else_=0))
    statement = (
        select(
            ProviderCall.provider,
            ProviderCall.day,
            ProviderCall.cost_currency,
            func.count(),
            exact_sum(ProviderCall.cost_minor),
            errors,
            not_found,
        )
        .where(ProviderCall.day >= day_from, ProviderCall.day <= day_to)
        .group_by(ProviderCall.provider, ProviderCall.day, ProviderCall.cost_currency)
    )
    if provider is not None:
        statement = statement.where(ProviderCall.provider == provider)
    return [tuple(row) for row in await session.execute(statement)]


async def cache_hit_totals(
    session: AsyncSession, day_from: date, day_to: date, provider: str | None
) -> Sequence[ProviderCacheHits]:
    statement = select(ProviderCacheHits).where(ProviderCacheHits.day >= day_from, ProviderCacheHits.day <= day_to)
    if provider is not None:
        statement = statement.where(ProviderCacheHits.provider == provider)
    return (await session.scalars(statement)).all()


# --- the insurer's limits ---------------------------------------------------------------------------


async def current_insurer_limit(
    session: AsyncSession, country: str, registration_number: str, today: date
) -> InsurerLimit | None:
    """The limit in force today; when several are, the one granted last."""
    return await session.scalar(
        select(InsurerLimit)
        .where(
            InsurerLimit.country == country,
            InsurerLimit.registration_number == registration_number,
            InsurerLimit.valid_from <= today,
            or_(InsurerLimit.valid_to.is_(None), InsurerLimit.valid_to >= today),
        )
        .order_by(InsurerLimit.valid_from.desc(), InsurerLimit.imported_at.desc())
        .limit(1)
    )


async def upsert_insurer_limits(session: WriteSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the limits, replacing one with the same buyer and insurer reference."""
    for row in rows:
        statement = _insert(session, InsurerLimit).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=["country", "registration_number", "insurer_reference"],
            set_={
                column: statement.excluded[column]
                for column in ("buyer_name", "limit_minor", "currency", "valid_from", "valid_to", "risk_class")
            }
            | {"imported_at": statement.excluded.imported_at},
        )
        await session.execute(statement)


async def delete_insurer_limits_except(session: WriteSession, keep: set[tuple[str, str, str]]) -> int:
    """Remove every limit not in `keep` (country, registration number, insurer reference): a full-list import."""
    existing = await session.execute(
        select(InsurerLimit.id, InsurerLimit.country, InsurerLimit.registration_number, InsurerLimit.insurer_reference)
    )
    stale = [row.id for row in existing if (row.country, row.registration_number, row.insurer_reference) not in keep]
    for chunk in chunks(stale, 500):
        await session.execute(delete(InsurerLimit).where(InsurerLimit.id.in_(chunk)))
    return len(stale)
