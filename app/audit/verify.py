"""Walking the chain: streaming, in seq order, in chunks, naming the first event that does not hold."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from app.audit import repository
from app.audit.canonical import GENESIS_HASH, Head, event_hash
from app.audit.repository import StoredEvent
from app.db import Database

Problem = Literal["missing", "altered", "unlinked", "head_mismatch", "anchor_mismatch"]
DEFAULT_CHUNK = 5000


class Expectation(NamedTuple):
    """A hash the event at some seq must have, and what recorded it."""

    hash: str
    problem: Problem
    source: str


@dataclass(frozen=True, slots=True)
class BrokenEvent:
    seq: int
    problem: Problem
    detail: str


@dataclass(frozen=True, slots=True)
class Verification:
    intact: bool
    events_checked: int
    last_seq: int
    last_hash: str
    head: Head | None
    first_broken: BrokenEvent | None


class ChainWalker:
    """Checks events one by one in seq order; holds only the previous event's seq and hash."""

    def __init__(self, expected: dict[int, Expectation] | None = None) -> None:
        self.last_seq = 0
        self.last_hash = GENESIS_HASH
        self.checked = 0
        # The chain head's and an outside anchor's (seq, hash) must be met on the way.
        self.expected = expected or {}

    def check_chunk(self, events: Sequence[StoredEvent]) -> BrokenEvent | None:
        for event in events:
            broken = self.check(event)
            if broken is not None:
                return broken
        return None

    def check(self, event: StoredEvent) -> BrokenEvent | None:
        if event.seq != self.last_seq + 1:
            missing = (
                f"{self.last_seq + 1}" if event.seq == self.last_seq + 2 else f"{self.last_seq + 1}–{event.seq - 1}"
            )
            return BrokenEvent(self.last_seq + 1, "missing", f"event {missing} missing: the log goes on at {event.seq}")
        recomputed = event_hash(
            seq=event.seq,
            event_type=event.event_type,
            subject_id=event.subject_id,
            payload_json=event.payload_json.encode(),
            occurred_at=event.occurred_at,
            actor=event.actor,
            prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            return BrokenEvent(event.seq, "altered", "the stored fields do not match the event's hash")
        if event.prev_hash != self.last_hash:
            return BrokenEvent(
                event.seq, "unlinked", f"prev_hash does not match the hash of event {self.last_seq}: replaced or moved"
            )
        expectation = self.expected.get(event.seq)
        if expectation is not None and expectation.hash != event.hash:
            return BrokenEvent(event.seq, expectation.problem, f"the hash differs from the {expectation.source}'s")
        self.last_seq, self.last_hash = event.seq, event.hash
        self.checked += 1
        return None

    def check_end(self) -> BrokenEvent | None:
        """After the last event: every expected seq must have been reached."""
        beyond = sorted(seq for seq in self.expected if seq > self.last_seq)
        if not beyond:
            return None
        source = self.expected[beyond[-1]].source
        return BrokenEvent(
            self.last_seq + 1, "missing", f"the log ends at {self.last_seq} but the {source} is at {beyond[-1]}"
        )


async def _read_chunk(database: Database, after_seq: int, chunk_size: int) -> Sequence[StoredEvent]:
    # One short read per chunk: no long transaction holds back vacuum or SQLite's checkpoints.
    async with database.read() as session:
        return await repository.events_after(session, after_seq, chunk_size)


async def verify_chain(
    database: Database,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    anchor: Head | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Verification:
    """Walk the whole log. `anchor` is a (seq, hash) recorded earlier outside the database, to catch a rewrite
    of the whole chain. `on_progress(checked, head_seq)` is called after each chunk."""
    async with database.read() as session:
        head = await repository.read_head(session)
    expected: dict[int, Expectation] = {}
    if head is not None and head.seq > 0:
        expected[head.seq] = Expectation(head.hash, "head_mismatch", "chain head")
    if anchor is not None and anchor.seq > 0:
        expected[anchor.seq] = Expectation(anchor.hash, "anchor_mismatch", "anchor")
    walker = ChainWalker(expected)
    broken: BrokenEvent | None = None
    # The next chunk is read while the current one is hashed (off the event loop, so a server verifying a
    # long log still answers other requests).
    next_chunk = asyncio.create_task(_read_chunk(database, 0, chunk_size))
    try:
        while broken is None:
            chunk = await next_chunk
            if not chunk:
                broken = walker.check_end()
                break
            next_chunk = asyncio.create_task(_read_chunk(database, chunk[-1].seq, chunk_size))
            broken = await asyncio.to_thread(walker.check_chunk, chunk)
            if on_progress is not None:
                on_progress(walker.checked, head.seq if head else 0)
    finally:
        if not next_chunk.done():
            next_chunk.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await next_chunk
    return Verification(
        intact=broken is None,
        events_checked=walker.checked,
        last_seq=walker.last_seq,
        last_hash=walker.last_hash,
        head=head,
        first_broken=broken,
    )


class AuditService:
    """The audit log as the API reads it: verification of its hash chain."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def verify(self, anchor: Head | None = None) -> Verification:
        return await verify_chain(self.database, anchor=anchor)
