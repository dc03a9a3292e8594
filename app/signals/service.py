"""Raising early-warning signals when a customer's record crosses a threshold, and acknowledging them.

`recompute` runs in the transaction of every payment, invoice and arrangement change, and in the monitor pass.
A signal raised is an audit event (`signal.raised`) and a webhook (`customer.warning`) in that transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.active_policy import ActivePolicy
from app.arrangements.service import ArrangementService, grace_days, open_judged_of
from app.audit.service import EventType, NewEvent, append_many
from app.chunks import chunks
from app.customers import repository as customers
from app.customers.exposure import ExposureSums, in_currency, sums_by_customer
from app.db import Database, WriteSession, utcnow
from app.decisions.behaviour import figures_of
from app.errors import Conflict, NotFound
from app.idempotency.service import Recorder, StoredResponse
from app.money import format_minor, to_minor
from app.notes import repository as notes
from app.notes.service import note_text
from app.policy.behaviour import BehaviourFigures
from app.policy.signals import crossings
from app.signals import repository
from app.signals.models import WarningSignal
from app.signals.schemas import AcknowledgeIn, SignalOut, SignalsOut, SignalStatus
from app.webhooks.service import enqueue_event


class SignalNotOpen(Conflict):
    code, title = "signal_not_open", "The signal is already acknowledged or cleared"


class SignalService:
    def __init__(self, database: Database, active_policy: ActivePolicy, arrangements: ArrangementService) -> None:
        self.database = database
        self.active_policy = active_policy
        self.arrangements = arrangements

    async def ledger_changed(self, session: WriteSession, customer_ids: Sequence[str]) -> None:
        """After invoices or payments of the customers changed (or time passed, in the monitor pass): their
        arrangements are judged again, then their signals recomputed, in the caller's transaction."""
        await self.arrangements.refresh(session, customer_ids)
        await self.recompute(session, customer_ids)

    async def recompute(
        self, session: WriteSession, customer_ids: Sequence[str] | None, *, actor: str = "system"
    ) -> list[str]:
        """Raise what the customers' records cross and the policy's `signals` section names; the ids raised.

        Raising twice gives one signal: one active (open or acknowledged) signal per customer and kind, by the
        database's unique constraint. An acknowledged signal whose threshold is no longer crossed is cleared,
        so the next crossing raises a new one."""
        policy = await self.active_policy(session)
        rules = policy.signals
        if rules is None or not customer_ids:
            return []
        ids = sorted(set(customer_ids))
        now = utcnow()
        today = now.date()
        rates = await customers.rate_table(session)
        known = await customers.customers_by_id(session, ids)
        ids = [customer_id for customer_id in ids if customer_id in known]
        figures: dict[str, BehaviourFigures] = {}
        sums: dict[str, ExposureSums] = {}
        for piece in chunks(ids):  # a monitor pass may hand in the whole portfolio: one IN list per piece
            listed = [known[customer_id] for customer_id in piece]
            figures |= await figures_of(session, listed, as_of=today, currency=policy.currency, rates=rates)
            sums |= sums_by_customer(await customers.exposure_rows(session, piece, today=today, now=now))
        judged = await open_judged_of(session, ids, as_of=today, grace=grace_days(policy))
        active: dict[str, dict[str, WarningSignal]] = {}
        for signal in await repository.active_signals(session, ids):
            active.setdefault(signal.customer_id, {})[signal.kind] = signal
        new_rows: list[dict[str, Any]] = []
        cleared: list[WarningSignal] = []
        events: list[NewEvent] = []
        for customer_id in ids:
            broken = [one.row.id for one in judged.get(customer_id, []) if one.judgement.status == "broken"]
            crossed = {c.kind: c for c in crossings(figures[customer_id], broken, rules)}
            exposure = in_currency(sums.get(customer_id, ExposureSums()), policy.currency, rates, today)
            exposure_minor = to_minor(exposure.total, policy.currency)
            mine = active.get(customer_id, {})
            await repository.set_exposure(session, [s.id for s in mine.values()], exposure_minor)
            for kind, signal in mine.items():
                if kind not in crossed and signal.status == "acknowledged":
                    cleared.append(signal)
            for kind, crossing in crossed.items():
                if kind not in mine:
                    new_rows.append(
                        {
                            "id": str(uuid.uuid4()),
                            "customer_id": customer_id,
                            "kind": kind,
                            "status": "open",
                            "active": True,
                            "facts": crossing.facts,
                            "currency": policy.currency,
                            "exposure_minor": exposure_minor,
                            "raised_at": now,
                        }
                    )
        await repository.clear(session, [signal.id for signal in cleared], now)
        raised = await repository.raise_signals(session, new_rows)
        for row in new_rows:
            if row["id"] not in raised:
                continue  # raised meanwhile by another transaction: that one announces it
            payload = _payload(row)
            await enqueue_event(session, "customer.warning", payload)
            events.append(NewEvent(EventType.SIGNAL_RAISED, row["customer_id"], payload, actor))
        for signal in cleared:
            payload = {"signal_id": signal.id, "customer_id": signal.customer_id, "kind": signal.kind}
            events.append(NewEvent(EventType.SIGNAL_CLEARED, signal.customer_id, payload, actor))
        await append_many(session, events)
        return sorted(raised)

    async def acknowledge(
        self, customer_id: str, signal_id: str, body: AcknowledgeIn, actor: str, recorder: Recorder
    ) -> StoredResponse:
        """The note goes to the customer's notes (`note.added`); the acknowledgement is `signal.acknowledged`."""
        text = note_text(body.note, field="note")
        now = utcnow()
        async with self.database.transaction() as session:
            if await customers.get_customer(session, customer_id, lock=True) is None:
                raise NotFound(f"no customer {customer_id}")
            signal = await repository.get_signal(session, customer_id, signal_id, lock=True)
            if signal is None:
                raise NotFound(f"no signal {signal_id} of customer {customer_id}")
            if signal.status != "open":
                raise SignalNotOpen(f"signal {signal_id} is {signal.status}")
            note: dict[str, Any] = {
                "id": str(uuid.uuid4()),
                "customer_id": customer_id,
                "decision_id": None,
                "text": text,
                "author": actor,
                "created_at": now,
            }
            await notes.add(session, note)
            await repository.acknowledge(session, signal_id, actor, note["id"], now)
            signal = await repository.get_signal(session, customer_id, signal_id)
            assert signal is not None
            stored = await recorder.respond(session, 200, signal_out(signal))
            note_payload = {"note_id": note["id"], "customer_id": customer_id, "decision_id": None, "text": text}
            ack_payload = {
                "signal_id": signal_id,
                "customer_id": customer_id,
                "kind": signal.kind,
                "note_id": note["id"],
            }
            await append_many(
                session,
                [
                    NewEvent(EventType.NOTE_ADDED, customer_id, note_payload, actor),
                    NewEvent(EventType.SIGNAL_ACKNOWLEDGED, customer_id, ack_payload, actor),
                ],
            )
        return stored

    async def of_customer(self, customer_id: str, limit: int = 100) -> SignalsOut:
        async with self.database.read() as session:
            if await customers.get_customer(session, customer_id) is None:
                raise NotFound(f"no customer {customer_id}")
            rows = await repository.signals_of(session, customer_id, limit)
        return SignalsOut(signals=[signal_out(row) for row in rows])

    async def by_exposure(self, status: SignalStatus = "open", limit: int = 100) -> SignalsOut:
        async with self.database.read() as session:
            rows = await repository.signals_by_exposure(session, status, limit)
        return SignalsOut(signals=[signal_out(row) for row in rows])


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    raised_at = row["raised_at"]
    assert isinstance(raised_at, datetime)
    currency = str(row["currency"])
    exposure = row["exposure_minor"]
    assert isinstance(exposure, int)
    return {
        "signal_id": row["id"],
        "customer_id": row["customer_id"],
        "kind": row["kind"],
        "facts": row["facts"],
        "exposure": format_minor(exposure, currency),
        "currency": currency,
        "raised_at": raised_at.isoformat().replace("+00:00", "Z"),
    }


def signal_out(row: WarningSignal) -> SignalOut:
    return SignalOut(
        id=row.id,
        customer_id=row.customer_id,
        kind=row.kind,
        status=row.status,
        facts=row.facts,
        exposure=format_minor(row.exposure_minor, row.currency),
        currency=row.currency,
        raised_at=row.raised_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        note_id=row.note_id,
        cleared_at=row.cleared_at,
    )
