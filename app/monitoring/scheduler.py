"""The in-process scheduler: a pass every interval, run by one replica at a time (a lease in the database)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from app.db import Database, utcnow
from app.monitoring import repository
from app.monitoring.service import MonitorService, PassResult, Progress

logger = logging.getLogger("creditgate.monitoring")
LEASE_NAME = "monitor_pass"


class PassRunning(Exception):
    """Another replica (or a `creditgate monitor` run) holds the monitor lease."""


async def run_leased_pass(
    database: Database,
    monitor: MonitorService,
    budget: int,
    *,
    lease_seconds: float = 3600,
    progress: Progress | None = None,
) -> PassResult:
    """One pass under the lease; raises PassRunning when someone else is running one."""
    holder = str(uuid.uuid4())
    now = utcnow()
    async with database.transaction() as session:
        if not await repository.take_lease(session, LEASE_NAME, holder, now, now + timedelta(seconds=lease_seconds)):
            raise PassRunning("a monitor pass is already running")
    try:
        return await monitor.run_pass(budget, progress)
    finally:
        async with database.transaction() as session:
            await repository.release_lease(session, LEASE_NAME, holder, utcnow())


async def run_scheduler(database: Database, monitor: MonitorService, budget: int, interval_seconds: float) -> None:
    """The lifespan's background task: until cancelled."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            result = await run_leased_pass(database, monitor, budget, lease_seconds=max(60.0, interval_seconds))
            logger.info(
                "monitor pass: %d checked, %d report calls, %d changed",
                result.checked,
                result.report_calls,
                len(result.changed),
            )
        except PassRunning:
            logger.info("monitor pass skipped: another replica is running one")
        except Exception:  # the next interval tries again
            logger.exception("monitor pass failed")
