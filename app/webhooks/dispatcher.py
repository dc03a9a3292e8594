"""Sends due outbox deliveries: claimed safely across replicas, signed, retried with backoff and jitter."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import orjson

from app.db import Database, utcnow
from app.webhooks import repository
from app.webhooks.models import WebhookDelivery, WebhookEvent
from app.webhooks.signing import headers
from app.webhooks.targets import TargetRefused, check_resolved

logger = logging.getLogger("creditgate.webhooks")


@dataclass(frozen=True, slots=True)
class RetryRules:
    max_attempts: int = 12
    backoff_base_seconds: float = 10.0
    backoff_max_seconds: float = 6 * 3600
    timeout_seconds: float = 10.0
    allow_private_targets: bool = False

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with full jitter on the upper half, so failed receivers are not stampeded."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempts - 1))
        return timedelta(seconds=ceiling * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not security


class Dispatcher:
    """One pass sends what is due; `run` repeats passes until cancelled (the lifespan's task)."""

    def __init__(self, db: Database, http: httpx.AsyncClient, rules: RetryRules, batch: int = 50) -> None:
        self.db = db
        self.http = http
        self.rules = rules
        self.batch = batch

    async def dispatch_once(self) -> int:
        """Send every delivery due now (in batches); the number delivered."""
        delivered = 0
        while True:
            token = str(uuid.uuid4())
            now = utcnow()
            lease = timedelta(seconds=self.rules.timeout_seconds * 2 + 30)
            async with self.db.read() as session:
                if not await repository.any_due(session, now):
                    return delivered
            async with self.db.transaction() as session:
                ids = await repository.claim_due(session, now, now + lease, token, self.batch)
                rows = await repository.claimed(session, ids) if ids else []
            if not rows:
                return delivered
            results = await asyncio.gather(*(self._send(d, e, url, secret, token) for d, e, url, secret in rows))
            delivered += sum(results)
            if len(rows) < self.batch:
                return delivered

    async def run(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.dispatch_once()
            except Exception:  # a database hiccup must not end the loop; the rows wait for the next pass
                logger.exception("webhook dispatch pass failed")
            await asyncio.sleep(interval_seconds)

    async def _send(self, delivery: WebhookDelivery, event: WebhookEvent, url: str, secret: str, token: str) -> bool:
        body = orjson.dumps(event.payload)
        now = utcnow()
        status_code: int | None = None
        error: str | None = None
        try:
            await check_resolved(url, allow_private=self.rules.allow_private_targets)
            response = await self.http.post(
                url,
                content=body,
                headers=headers(secret, event.id, int(now.timestamp()), body),
                timeout=httpx.Timeout(self.rules.timeout_seconds, connect=min(5.0, self.rules.timeout_seconds)),
                follow_redirects=False,
            )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except TargetRefused as exc:
            error = f"refused target: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        await self._record(delivery, token, now, status_code, error)
        return error is None

    async def _record(
        self, delivery: WebhookDelivery, token: str, now: datetime, status_code: int | None, error: str | None
    ) -> None:
        attempts = delivery.attempts + 1
        values: dict[str, object] = {
            "attempts": attempts,
            "last_status_code": status_code,
            "last_error": error,
            "last_attempt_at": now,
        }
        if error is None:
            values.update(status="delivered", delivered_at=now)
        elif attempts >= self.rules.max_attempts:
            values.update(status="failed")
            logger.warning("webhook delivery %s failed for good after %d attempts: %s", delivery.id, attempts, error)
        else:
            values.update(next_attempt_at=now + self.rules.delay(attempts))
        async with self.db.transaction() as session:
            await repository.record_attempt(session, delivery.id, token, values)
