"""Every query monitoring makes of its own tables, and the candidates of a pass."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import CreditLimitChange, Customer
from app.db import WriteSession, dialect_insert
from app.decisions.models import Decision
from app.monitoring.models import CustomerCreditState, MonitorLease
from app.providers.base import registration_key


async def recently_decided(session: AsyncSession, since: datetime) -> list[str]:
    query = select(Decision.customer_id).where(Decision.decided_at >= since).distinct()
    return list((await session.scalars(query)).all())


async def refresh_requested(session: AsyncSession) -> list[str]:
    query = select(CustomerCreditState.customer_id).where(CustomerCreditState.refresh_requested)
    return list((await session.scalars(query)).all())


async def get_state(session: AsyncSession, customer_id: str) -> CustomerCreditState | None:
    return await session.get(CustomerCreditState, customer_id, populate_existing=True)


async def save_state(session: WriteSession, values: dict[str, Any]) -> None:
    insert_ = dialect_insert(session)
    statement = insert_(CustomerCreditState).values(**values)
    changed = {name: statement.excluded[name] for name in values if name != "customer_id"}
    await session.execute(statement.on_conflict_do_update(index_elements=["customer_id"], set_=changed))


async def request_refresh(session: WriteSession, customer_id: str, now: datetime) -> None:
    insert_ = dialect_insert(session)
    statement = insert_(CustomerCreditState).values(customer_id=customer_id, refresh_requested=True, checked_at=now)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["customer_id"], set_={"refresh_requested": True})
    )


async def add_limit_change(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(CreditLimitChange).values(id=str(uuid.uuid4()), **values))


async def customers_by_registration(session: AsyncSession, country: str, number_keys: Sequence[str]) -> list[Customer]:
    """Customers whose registration number, written any way, is one of `number_keys`."""
    query = select(Customer).where(Customer.country == country, Customer.registration_number.is_not(None))
    wanted = set(number_keys)
    return [row for row in await session.scalars(query) if registration_key(row.registration_number or "") in wanted]


async def take_lease(session: WriteSession, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Take (or renew) the named lease unless another holder's is still running."""
    insert_ = dialect_insert(session)
    await session.execute(
        insert_(MonitorLease)
        .values(name=name, holder=holder, expires_at=until)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    lease = await session.scalar(select(MonitorLease).where(MonitorLease.name == name).with_for_update())
    if lease is None:
        return False
    if lease.holder != holder and lease.expires_at > now:
        return False
    await session.execute(update(MonitorLease).where(MonitorLease.name == name).values(holder=holder, expires_at=until))
    return True


async def release_lease(session: WriteSession, name: str, holder: str, now: datetime) -> None:
    await session.execute(
        update(MonitorLease).where(MonitorLease.name == name, MonitorLease.holder == holder).values(expires_at=now)
    )
