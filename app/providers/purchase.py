"""One paid call per company, however many decisions ask at once.

In one process, concurrent askers share an in-memory future. Across replicas, the process that buys holds
a lease row in the database (unique key, expiry); the others poll the shared cache until the report is
there, the holder leaves an answer on the lease (not found), or their deadline passes."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from app.audit.service import EventType, append
from app.db import Database, utcnow
from app.money import format_minor, quantize, to_minor
from app.providers import repository
from app.providers.base import (
    BadProviderResponse,
    CircuitOpen,
    CompanyNotFound,
    CompanyQuery,
    CreditReport,
    CreditReportProvider,
    ProviderError,
)
from app.providers.resilience import ProviderGuard

logger = logging.getLogger("creditgate.providers")

# Purchases happen on behalf of whichever decision needed the report; the event names the service itself.
AUDIT_ACTOR = "creditgate"

# Failed calls cost nothing; ISO 4217's "no currency" keeps them out of every cost total.
NO_CURRENCY = "XXX"


@dataclass(frozen=True, slots=True)
class Purchase:
    outcome: Literal["report", "not_found", "unavailable"]
    report: CreditReport | None = None
    bought: bool = False  # a paid call of this process produced the report
    detail: str | None = None


def lease_key(provider: str, company: CompanyQuery) -> str:
    return f"{provider}|{company.country}|{company.number_key}"


class Purchaser:
    """Buys reports for the cache, coalescing concurrent purchases of the same one."""

    def __init__(
        self,
        database: Database,
        guard: ProviderGuard,
        *,
        lease_seconds: float,
        not_found_seconds: float = 5.0,
        poll_seconds: float = 0.05,
    ) -> None:
        self.database = database
        self.guard = guard
        self.lease_seconds = lease_seconds
        self.not_found_seconds = not_found_seconds
        self.poll_seconds = poll_seconds
        self._inflight: dict[str, asyncio.Future[Purchase]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def purchase(
        self, provider: CreditReportProvider, company: CompanyQuery, deadline: float, max_age: timedelta
    ) -> tuple[Purchase, bool]:
        """The purchase every concurrent asker shares, and whether this caller started it."""
        key = lease_key(provider.name, company)
        future = self._inflight.get(key)
        started_here = future is None
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._inflight[key] = future
            # Its own task: a caller that gives up (its budget ran out) never cancels a purchase others share.
            task = asyncio.create_task(self._lead(provider, company, key, future, deadline, max_age))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(future), started_here

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _lead(
        self,
        provider: CreditReportProvider,
        company: CompanyQuery,
        key: str,
        future: asyncio.Future[Purchase],
        deadline: float,
        max_age: timedelta,
    ) -> None:
        result = Purchase("unavailable", detail="the purchase did not finish")
        try:
            result = await self._buy(provider, company, key, deadline, max_age)
        except Exception:
            logger.exception("buying a report from %s failed", provider.name)
        finally:
            if not future.done():
                future.set_result(result)
            # The entry goes only after the report is stored: a later asker then finds it in the cache.
            self._inflight.pop(key, None)

    async def _buy(
        self,
        provider: CreditReportProvider,
        company: CompanyQuery,
        key: str,
        deadline: float,
        max_age: timedelta,
    ) -> Purchase:
        holder = str(uuid.uuid4())
        loop = asyncio.get_running_loop()
        while True:
            async with self.database.transaction() as session:
                now = utcnow()
                lease = await repository.acquire_lease(
                    session, key, holder, now, now + timedelta(seconds=self.lease_seconds)
                )
            if lease.acquired:
                break
            if lease.state == "not_found":
                return Purchase("not_found", detail="another replica just found no such company")
            # Another replica is buying: wait for its report (the deadline bounds the wait, not a query).
            if deadline - loop.time() <= self.poll_seconds:
                return Purchase("unavailable", detail="another replica is still buying this report")
            await asyncio.sleep(self.poll_seconds)
            cached = await self.fresh_report(provider.name, company, max_age)
            if cached is not None:
                return Purchase("report", cached)
        try:
            cached = await self.fresh_report(provider.name, company, max_age)
            if cached is not None:  # stored by another replica between our cache read and the lease
                await self._finish(key, holder)
                return Purchase("report", cached)
            return await self._call_and_store(provider, company, key, holder, deadline)
        except BaseException:
            await asyncio.shield(self._finish(key, holder))
            raise

    async def fresh_report(self, provider: str, company: CompanyQuery, max_age: timedelta) -> CreditReport | None:
        async with self.database.read() as session:
            snapshots = await repository.latest_snapshots(session, [provider], company.country, company.number_key)
        if provider not in snapshots:
            return None
        report = CreditReport.from_snapshot(snapshots[provider])
        return report if utcnow() - report.fetched_at < max_age else None

    async def _call_and_store(
        self, provider: CreditReportProvider, company: CompanyQuery, key: str, holder: str, deadline: float
    ) -> Purchase:
        """Call the provider, then store and record the outcome before anyone is told (so the cache and the
        ledger already show it when a decision returns)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            report = await self.guard.call(provider, company, deadline)
        except CircuitOpen as exc:
            await self._finish(key, holder)
            return Purchase("unavailable", detail=str(exc))
        except CompanyNotFound as exc:
            call = _call_row(provider.name, company, "not_found", loop.time() - started)
            await self._finish(key, holder, call=call, linger_state="not_found")
            return Purchase("not_found", detail=str(exc))
        except ProviderError as exc:
            outcome = "bad_response" if isinstance(exc, BadProviderResponse) else "unavailable"
            logger.warning("provider %s: %s", provider.name, exc)
            await self._finish(key, holder, call=_call_row(provider.name, company, outcome, loop.time() - started))
            return Purchase("unavailable", detail=str(exc))
        call = _call_row(provider.name, company, "report", loop.time() - started, report)
        await self._finish(key, holder, call=call, report=(company, report))
        return Purchase("report", report, bought=True)

    async def _finish(
        self,
        key: str,
        holder: str,
        *,
        call: dict[str, Any] | None = None,
        report: tuple[CompanyQuery, CreditReport] | None = None,
        linger_state: str | None = None,
    ) -> None:
        """Store what was bought, record the call and hand the lease back — in one transaction."""
        try:
            await self._settle(key, holder, call, report, linger_state)
        except Exception:
            # The report was still had. A payload the database refuses must not cost the spend record too.
            logger.exception("storing a report bought from %s failed", key.split("|", 1)[0])
            if report is None:
                return
            try:
                await self._settle(key, holder, call, None, linger_state)
            except Exception:
                logger.exception("recording a call to %s failed; its lease expires by itself", key.split("|", 1)[0])

    async def _settle(
        self,
        key: str,
        holder: str,
        call: dict[str, Any] | None,
        report: tuple[CompanyQuery, CreditReport] | None,
        linger_state: str | None,
    ) -> None:
        async with self.database.transaction() as session:
            row = report_row(*report) if report is not None else None
            if row is not None:
                await repository.insert_report(session, row)
            if call is not None:
                await repository.record_call(session, call)
            if linger_state is None:
                await repository.release_lease(session, key, holder)
            else:
                expires_at = utcnow() + timedelta(seconds=self.not_found_seconds)
                await repository.settle_lease(session, key, holder, linger_state, expires_at)
            if row is not None:
                # Last in the transaction: the audit chain's lock is held only until the commit.
                await append(session, EventType.REPORT_PURCHASED, row["id"], _purchase_event(row), AUDIT_ACTOR)


def report_row(company: CompanyQuery, report: CreditReport) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "provider": report.provider,
        "country": company.country,
        "registration_number": company.number_key,
        "reference": report.reference[:128],
        "snapshot": report.snapshot(),
        "raw": report.raw,
        "raw_hash": report.raw_hash,
        "fetched_at": report.fetched_at,
        "cost_minor": _minor(report),
        "cost_currency": report.cost_currency,
    }


def _purchase_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "report_id": row["id"],
        "provider": row["provider"],
        "reference": row["reference"],
        "country": row["country"],
        "registration_number": row["registration_number"],
        "raw_hash": row["raw_hash"],
        "fetched_at": row["fetched_at"],
        "cost": format_minor(row["cost_minor"], row["cost_currency"]),
        "cost_currency": row["cost_currency"],
    }


def _call_row(
    provider: str, company: CompanyQuery, outcome: str, seconds: float, report: CreditReport | None = None
) -> dict[str, Any]:
    called_at = utcnow()
    return {
        "id": str(uuid.uuid4()),
        "provider": provider,
        "country": company.country,
        "registration_number": company.number_key,
        "outcome": outcome,
        "cost_minor": 0 if report is None else _minor(report),
        "cost_currency": NO_CURRENCY if report is None else report.cost_currency,
        "latency_ms": round(seconds * 1000),
        "called_at": called_at,
        "day": called_at.date(),
    }


def _minor(report: CreditReport) -> int:
    return to_minor(quantize(report.cost, report.cost_currency), report.cost_currency)
