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
from app.settings import Settings
from app.webhooks import repository
from app.webhooks.models import WebhookDelivery, WebhookEvent
from app.webhooks.signing import headers
from app.webhooks.targets import Lookup, Target, TargetRefused, resolve, system_lookup

logger = logging.getLogger("creditgate.webhooks")
# A receiver's answer matters only by its status; more than this of its body is never read.
MAX_RESPONSE_BYTES = 64 * 1024


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


def retry_rules(settings: Settings) -> RetryRules:
    return RetryRules(
        max_attempts=settings.webhooks_max_attempts,
        backoff_base_seconds=settings.webhooks_backoff_base_seconds,
        backoff_max_seconds=settings.webhooks_backoff_max_seconds,
        timeout_seconds=settings.webhooks_timeout_seconds,
        allow_private_targets=settings.webhooks_allow_private_targets,
    )


class Dispatcher:
    """One pass sends what is due; `run` repeats passes until cancelled (the lifespan's task)."""

    def __init__(
        self,
        database: Database,
        http: httpx.AsyncClient,
        rules: RetryRules,
        batch: int = 50,
        lookup: Lookup = system_lookup,
    ) -> None:
        self.database = database
        self.http = http
        self.rules = rules
        self.batch = batch
        self.lookup = lookup

    async def dispatch_once(self) -> int:
        """Send every delivery due now (in batches); the number delivered."""
        delivered = 0
        while True:
            token = str(uuid.uuid4())
            now = utcnow()
            lease = timedelta(seconds=self.rules.timeout_seconds * 2 + 30)
            async with self.database.read() as session:
                if not await repository.any_due(session, now):
                    return delivered
            async with self.database.transaction() as session:
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
            # One deadline for the whole attempt: resolving, connecting, sending and reading the answer.
            async with asyncio.timeout(self.rules.timeout_seconds):
                target = await resolve(url, allow_private=self.rules.allow_private_targets, lookup=self.lookup)
                status_code = await self._post(target, headers(secret, event.id, int(now.timestamp()), body), body)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except TargetRefused as exc:
            error = f"refused target: {exc}"
        except TimeoutError:
            error = f"no answer within {self.rules.timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # one bad delivery is recorded as failed; it never stops the pass or the others
            logger.exception("webhook delivery %s raised", delivery.id)
            error = f"{type(exc).__name__}: {exc}"
        await self._record(delivery, token, now, status_code, error and error[:500])
        return error is None

    async def _post(self, target: Target, signed: dict[str, str], body: bytes) -> int:
        """POST to the checked addresses in turn (the next one only when connecting fails); the status code.

        The URL names the address, so no second resolution happens; Host and TLS SNI (and so the certificate
        check) keep the subscribed name. Connections are not reused: each delivery's TLS session is verified
        for its own host. At most MAX_RESPONSE_BYTES of the answer are read.
        """
        host_header = target.url.netloc.decode("ascii")
        extensions = {"sni_hostname": target.url.raw_host.decode("ascii")} if target.url.scheme == "https" else {}
        request_headers = {**signed, "Host": host_header, "Connection": "close"}
        timeout = httpx.Timeout(self.rules.timeout_seconds, connect=min(5.0, self.rules.timeout_seconds))
        for index, address in enumerate(target.addresses):
            request = self.http.build_request(
                "POST",
                target.url.copy_with(host=address),
                content=body,
                headers=request_headers,
                timeout=timeout,
                extensions=extensions,
            )
            try:
                response = await self.http.send(request, stream=True, follow_redirects=False)
            except httpx.ConnectError:
                if index == len(target.addresses) - 1:
                    raise
                continue
            try:
                await _read_some(response)
            finally:
                await response.aclose()
            return response.status_code
        raise TargetRefused("no address to connect to")  # resolve() never returns an empty target

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
        async with self.database.transaction() as session:
            await repository.record_attempt(session, delivery.id, token, values)


async def _read_some(response: httpx.Response) -> None:
    """Read the raw (still encoded) answer up to MAX_RESPONSE_BYTES; the receiver owes nothing but its status."""
    if response.is_stream_consumed:  # an answer already in memory (a test's transport)
        return
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= MAX_RESPONSE_BYTES:
            return
