"""Idempotent writes per the IETF httpapi Idempotency-Key draft, held in the database for every replica.

A request with a key first claims it in a short transaction of its own. The write then stores its response
in the same transaction as the write itself, so a committed write always has its stored response and a
rolled-back one never does. A failed write releases its claim so that a retry can run it again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import orjson
from pydantic import BaseModel

from app.db import Database, WriteSession, utcnow
from app.errors import ProblemError
from app.idempotency import repository


class IdempotencyKeyReused(ProblemError):
    status, code, title = 422, "idempotency_key_reused", "The Idempotency-Key was used for another request"


class IdempotentRequestInFlight(ProblemError):
    status, code, title = 409, "idempotency_request_in_flight", "A request with this Idempotency-Key is in progress"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A write's response as bytes: what is sent now and what a repeat replays (`replayed`). Plain data: the API
    layer turns it into the HTTP response."""

    status_code: int
    body: bytes
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Claim:
    api_key_id: str
    key: str
    token: str


class Recorder:
    """Serialises a write's response and stores it in the write's transaction when a key was sent."""

    def __init__(self, claim: Claim | None) -> None:
        self.claim = claim

    async def respond(self, session: WriteSession, status_code: int, model: BaseModel) -> StoredResponse:
        body = model.model_dump_json().encode()
        if self.claim is not None:
            claim = self.claim
            stored = await repository.complete(session, claim.api_key_id, claim.key, claim.token, status_code, body)
            if not stored:
                # The claim's lease ran out and another request took the key over: this write must not commit.
                raise IdempotentRequestInFlight("the Idempotency-Key was taken over by a retry; retry later")
        return StoredResponse(status_code, body)


Handler = Callable[[Recorder], Awaitable[StoredResponse]]


class IdempotencyService:
    def __init__(self, database: Database, retention: timedelta, lease: timedelta) -> None:
        self.database = database
        self.retention = retention
        self.lease = lease
        self._claims = 0

    async def run(self, api_key_id: str, key: str | None, fingerprint: str, handler: Handler) -> StoredResponse:
        """Run a write once per (API key, Idempotency-Key); repeats get the stored response, marked replayed."""
        if key is None:
            return await handler(Recorder(None))
        outcome = await self._claim(api_key_id, key, fingerprint)
        if isinstance(outcome, StoredResponse):
            return StoredResponse(outcome.status_code, outcome.body, replayed=True)
        try:
            stored = await handler(Recorder(outcome))
        except BaseException:
            await self._release(outcome)
            raise
        return stored

    async def _claim(self, api_key_id: str, key: str, fingerprint: str) -> Claim | StoredResponse:
        now = utcnow()
        claim = Claim(api_key_id, key, secrets.token_hex(16))
        values: dict[str, object] = {
            "fingerprint": fingerprint,
            "state": "in_flight",
            "token": claim.token,
            "status_code": None,
            "body": None,
            "created_at": now,
            "lease_until": now + self.lease,
            "expires_at": now + self.retention,
        }
        async with self.database.transaction(brief=True) as session:
            self._claims += 1
            if self._claims % 100 == 1:
                await repository.purge_expired(session, now)
            if await repository.insert_if_absent(session, {"api_key_id": api_key_id, "key": key, **values}):
                return claim
            record = await repository.get_locked(session, api_key_id, key)
            if record is None:  # released between the insert and the read: the next claim wins it
                raise IdempotentRequestInFlight("retry the request", headers={"Retry-After": "1"})
            stale = record.state == "in_flight" and record.lease_until <= now
            if record.expires_at <= now or stale:
                await repository.take_over(session, api_key_id, key, values)
                return claim
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was sent with another method, path or body; use a new key"
                )
            if record.state == "in_flight" or record.body is None or record.status_code is None:
                raise IdempotentRequestInFlight(
                    "a request with this Idempotency-Key is still being processed; retry shortly",
                    headers={"Retry-After": "1"},
                )
            return StoredResponse(record.status_code, record.body)

    async def _release(self, claim: Claim) -> None:
        async with self.database.transaction() as session:
            await repository.release(session, claim.api_key_id, claim.key, claim.token)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 over method, path and the body's canonical JSON (so key order and spacing do not matter)."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()
