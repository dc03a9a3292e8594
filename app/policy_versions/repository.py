"""Every query on policy versions, activations, and the stored decisions a replay reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, String, and_, bindparam, cast, func, insert, null, or_, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import FxRate
from app.customers.rates import RateTable
from app.db import Reader, WriteSession, core
from app.decisions.models import Decision
from app.decisions.query import Cursor
from app.policy_versions.models import PolicyActivation, PolicyVersion
from app.policy_versions.query import ReplayFilters

# Any fixed number: the key of the advisory lock that serialises the first policy's bootstrap.
BOOTSTRAP_LOCK_KEY = 0x63726564


ACTIVE_VERSION = select(PolicyActivation.version).order_by(PolicyActivation.id.desc()).limit(1)
# The active version and every stored rate in one statement, what each decision reads before its report: a row
# per rate with a null version, and one row with the version (null while none is active) and null rate columns.
ACTIVE_VERSION_AND_RATES = union_all(
    select(FxRate.base, FxRate.quote, FxRate.rate, cast(null(), String).label("version")),
    select(cast(null(), String), cast(null(), String), cast(null(), String), ACTIVE_VERSION.scalar_subquery()),
)


async def active_version(session: Reader) -> str | None:
    """The newest activation's version: one primary-key index read."""
    version: str | None = await (await core(session)).scalar(ACTIVE_VERSION)
    return version


VERSION_DOCUMENT = select(PolicyVersion.document).where(PolicyVersion.version == bindparam("version"))


async def active_version_and_rates(session: Reader) -> tuple[str | None, RateTable]:
    """`active_version` and the rate table (`customers.rate_table`), read in one statement."""
    version: str | None = None
    rates: list[tuple[str, str, str]] = []
    for base, quote, rate, active in await (await core(session)).execute(ACTIVE_VERSION_AND_RATES):
        if base is None:
            version = active
        else:
            rates.append((base, quote, rate))
    return version, RateTable.of(sorted(rates))


async def version_document(session: Reader, version: str) -> dict[str, Any] | None:
    """A stored version's document (a Core read: the decision path reads it on a bare connection too)."""
    document: dict[str, Any] | None = await (await core(session)).scalar(VERSION_DOCUMENT, {"version": version})
    return document


async def get_version(session: AsyncSession, version: str) -> PolicyVersion | None:
    return await session.get(PolicyVersion, version)


async def list_versions(session: AsyncSession) -> Sequence[PolicyVersion]:
    query = select(PolicyVersion).order_by(PolicyVersion.created_at.desc(), PolicyVersion.version)
    return (await session.scalars(query)).all()


async def last_activations(session: AsyncSession, versions: Sequence[str] | None = None) -> dict[str, datetime]:
    """When each version was last activated."""
    query = select(PolicyActivation.version, func.max(PolicyActivation.activated_at)).group_by(PolicyActivation.version)
    if versions is not None:
        query = query.where(PolicyActivation.version.in_(versions))
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


async def insert_version(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(PolicyVersion).values(**values))


async def insert_activation(session: WriteSession, version: str, activated_at: datetime, activated_by: str) -> None:
    await session.execute(
        insert(PolicyActivation).values(version=version, activated_at=activated_at, activated_by=activated_by)
    )


async def lock_bootstrap(session: WriteSession) -> None:
    """Replicas starting together store the first policy one at a time (SQLite's write lock does this already)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOOTSTRAP_LOCK_KEY})


REPLAY_COLUMNS = (
    Decision.id,
    Decision.order_id,
    Decision.customer_id,
    Decision.decided_at,
    Decision.outcome,
    Decision.currency,
    Decision.amount_minor,
    Decision.approved_credit_minor,
    Decision.prepayment_minor,
    Decision.payment_terms_days,
    Decision.policy_version,
    Decision.request,
    Decision.inputs,
)


def _replay_query(filters: ReplayFilters) -> Any:
    query = select(*REPLAY_COLUMNS)
    if filters.customer_id is not None:
        query = query.where(Decision.customer_id == filters.customer_id)
    if filters.outcome is not None:
        query = query.where(Decision.outcome == filters.outcome)
    if filters.decided_from is not None:
        query = query.where(Decision.decided_at >= filters.decided_from)
    if filters.decided_to is not None:
        query = query.where(Decision.decided_at < filters.decided_to)
    if filters.policy_version is not None:
        query = query.where(Decision.policy_version == filters.policy_version)
    return query


async def count_decisions(session: AsyncSession, filters: ReplayFilters) -> int:
    subquery = _replay_query(filters).with_only_columns(Decision.id).subquery()
    return int(await session.scalar(select(func.count()).select_from(subquery)) or 0)


async def decisions_chunk(
    session: AsyncSession, filters: ReplayFilters, after: Cursor | None, size: int
) -> Sequence[Row[Any]]:
    """The next `size` stored decisions, newest first, after a keyset position (the history API's order)."""
    query = _replay_query(filters)
    if after is not None:
        query = query.where(
            or_(
                Decision.decided_at < after.decided_at,
                and_(Decision.decided_at == after.decided_at, Decision.id < after.id),
            )
        )
    query = query.order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(size)
    return (await session.execute(query)).all()
