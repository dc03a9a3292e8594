"""Early-warning signals through the API: raised from the customer's own record, announced, acknowledged."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services import services_of
from tests.arrangements.helpers import agreed_days_ago, arrangements_section, create, plan
from tests.conftest import auth, key_for
from tests.erp import credit_file, decide, put_customer, put_invoice
from tests.policy.behaviour_tables import behaviour_section
from tests.signals.conftest import Running


async def activate(
    client: httpx.AsyncClient, version: str = "signals-1", *, behaviour: bool = True, **signals: Any
) -> None:
    document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
    document["version"] = version
    if behaviour:
        document["behaviour"] = behaviour_section()
    document["arrangements"] = arrangements_section(grace_days=0)
    document["signals"] = {"dbt_trend_days": "5", **signals}
    response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
    assert response.status_code == 201, response.text
    response = await client.post(f"/v1/policies/{version}/activate", headers=auth(key_for("admin")))
    assert response.status_code == 200, response.text


async def paid_invoice(client: httpx.AsyncClient, number: int, *, due_days_ago: int, days_late: int) -> None:
    invoice_id = f"INV-{number}"
    await put_invoice(client, invoice_id, "1000.00", due_in_days=-due_days_ago)
    paid_on = date.today() - timedelta(days=due_days_ago - days_late)
    body = {"id": f"P-{number}", "amount": "1000.00", "paid_on": str(paid_on)}
    response = await client.post(f"/v1/customers/C-42/invoices/{invoice_id}/payments", json=body, headers=auth())
    assert response.status_code == 201, response.text


async def outbox(engine: AsyncEngine, event_type: str = "customer.warning") -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT payload FROM webhook_events WHERE event_type = :t ORDER BY created_at"), {"t": event_type}
        )
        payloads = [row[0] for row in rows]
    return [p if isinstance(p, dict) else json.loads(p) for p in payloads]


async def open_signals(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/signals", headers=auth())
    assert response.status_code == 200, response.text
    signals: list[dict[str, Any]] = response.json()["signals"]
    return signals


def codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


class TestPayingLater:
    async def test_a_customer_paying_later_gets_a_warning_and_a_tighter_decision(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await activate(client)
        await put_customer(client)
        # Ten months of paying on time.
        for number, due_days_ago in enumerate((300, 250, 200, 150, 100, 40), start=1):
            await paid_invoice(client, number, due_days_ago=due_days_ago, days_late=0)
        await decide(client, "500.00", "SO-1")  # the first order on credit (capped)
        before = await decide(client, "500.00", "SO-2")
        assert before["outcome"] == "accept"
        assert "PAYMENT_BEHAVIOUR_DETERIORATED" not in codes(before)
        assert await open_signals(client) == []
        # Then, over the last three months, four invoices each paid 22 days late.
        for number, due_days_ago in enumerate((85, 70, 55, 45), start=7):
            await paid_invoice(client, number, due_days_ago=due_days_ago, days_late=22)

        (signal,) = await open_signals(client)
        assert (signal["customer_id"], signal["kind"], signal["status"]) == ("C-42", "dbt_trend", "open")
        # Raised at the first late payment (90 days: one of two payments 22 days late; 12 months: one of seven),
        # and once only, though the three later payments cross the threshold too.
        assert (signal["facts"]["dbt_90_days"], signal["facts"]["dbt_12_months"]) == ("11.0", "3.1")
        assert (signal["facts"]["trend_days"], signal["facts"]["threshold_days"]) == ("7.9", "5")
        (announced,) = await outbox(engine)
        assert announced["type"] == "customer.warning"
        assert announced["data"]["signal_id"] == signal["id"]
        assert announced["data"]["kind"] == "dbt_trend"

        after = await decide(client, "500.00", "SO-3")
        assert after["report"]["risk_class"] == before["report"]["risk_class"] == "A"  # the bureau did not move
        assert "PAYMENT_BEHAVIOUR_DETERIORATED" in codes(after)
        assert float(after["credit_limit"]) < float(before["credit_limit"])
        assert [s["id"] for s in (await credit_file(client))["signals"]] == [signal["id"]]


class TestBrokenArrangement:
    async def test_raises_the_signal_and_the_webhook(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await activate(client, behaviour=False)
        await put_customer(client)
        await put_invoice(client, "INV-1", "2000.00", due_in_days=-60)
        arrangement = (await create(client, plan((1, "2000.00"), kind="promise"))).json()
        assert await open_signals(client) == []
        await agreed_days_ago(engine, arrangement["id"], 10)
        # The next payment (or monitor pass) judges it again: broken, and the signal follows.
        body = {"id": "P-1", "amount": "100.00", "paid_on": str(date.today())}
        response = await client.post("/v1/customers/C-42/invoices/INV-1/payments", json=body, headers=auth())
        assert response.status_code == 201, response.text
        (signal,) = await open_signals(client)
        assert (signal["kind"], signal["facts"]["arrangement_ids"]) == ("broken_arrangement", [arrangement["id"]])
        assert signal["exposure"] == "1900.00"
        (announced,) = await outbox(engine)
        assert announced["data"] == {
            "signal_id": signal["id"],
            "customer_id": "C-42",
            "kind": "broken_arrangement",
            "facts": {"arrangement_ids": [arrangement["id"]]},
            "exposure": "1900.00",
            "currency": "EUR",
            "raised_at": announced["data"]["raised_at"],
        }
        async with engine.connect() as connection:
            types = [r[0] for r in await connection.execute(text("SELECT event_type FROM audit_events ORDER BY seq"))]
        assert types.index("arrangement.changed") < types.index("signal.raised")


class TestOneActiveSignal:
    async def test_recomputing_again_and_at_once_raises_one(self, running: Running, engine: AsyncEngine) -> None:
        client, services = running.client, services_of(running.app)
        await activate(client, behaviour=False)
        await put_customer(client)
        await put_invoice(client, "INV-1", "2000.00", due_in_days=-60)
        arrangement = (await create(client, plan((1, "2000.00"), kind="promise"))).json()
        await agreed_days_ago(engine, arrangement["id"], 10)

        async def recompute() -> list[str]:
            async with services.database.transaction() as session:
                await services.arrangements.refresh(session, ["C-42"])
                return await services.signals.recompute(session, ["C-42"])

        raised = await asyncio.gather(*(recompute() for _ in range(4)))
        raised.append(await recompute())
        assert sum(len(ids) for ids in raised) == 1
        assert len(await open_signals(client)) == 1
        assert len(await outbox(engine)) == 1


class TestAcknowledging:
    async def raised(self, client: httpx.AsyncClient, engine: AsyncEngine) -> dict[str, Any]:
        await activate(client, behaviour=False)
        await put_customer(client)
        await put_invoice(client, "INV-1", "2000.00", due_in_days=-60)
        arrangement = (await create(client, plan((1, "2000.00"), kind="promise"))).json()
        await agreed_days_ago(engine, arrangement["id"], 10)
        await put_invoice(client, "INV-2", "10.00", due_in_days=5)  # an invoice write judges it again
        (signal,) = await open_signals(client)
        return signal

    async def test_with_a_note_it_leaves_the_open_list(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        signal = await self.raised(client, engine)
        path = f"/v1/customers/C-42/signals/{signal['id']}/acknowledge"
        response = await client.post(path, json={"note": "Called: pays Friday."}, headers=auth(key_for("review")))
        assert response.status_code == 200, response.text
        acknowledged = response.json()
        assert acknowledged["status"] == "acknowledged"
        assert await open_signals(client) == []
        notes = (await client.get("/v1/customers/C-42/notes", headers=auth())).json()["notes"]
        assert [(n["id"], n["text"]) for n in notes] == [(acknowledged["note_id"], "Called: pays Friday.")]
        again = await client.post(path, json={"note": "again"}, headers=auth(key_for("review")))
        assert again.status_code == 409
        # Still crossed: no second signal while this one is acknowledged.
        await put_invoice(client, "INV-3", "10.00", due_in_days=5)
        listed = (await client.get("/v1/customers/C-42/signals", headers=auth())).json()["signals"]
        assert [s["status"] for s in listed] == ["acknowledged"]
        async with engine.connect() as connection:
            types = [r[0] for r in await connection.execute(text("SELECT event_type FROM audit_events ORDER BY seq"))]
        assert types.index("note.added") < types.index("signal.acknowledged")

    async def test_once_no_longer_crossed_an_acknowledged_signal_clears(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        signal = await self.raised(client, engine)
        path = f"/v1/customers/C-42/signals/{signal['id']}/acknowledge"
        assert (await client.post(path, json={"note": "Plan cancelled."}, headers=auth())).status_code == 200
        cancel = f"/v1/customers/C-42/arrangements/{signal['facts']['arrangement_ids'][0]}/cancel"
        assert (await client.post(cancel, json={"reason": "new plan agreed"}, headers=auth())).status_code == 200
        listed = (await client.get("/v1/customers/C-42/signals", headers=auth())).json()["signals"]
        assert [s["status"] for s in listed] == ["cleared"]

    async def test_refusals(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        signal = await self.raised(client, engine)
        path = f"/v1/customers/C-42/signals/{signal['id']}/acknowledge"
        assert (await client.post(path, json={"note": "x"}, headers=auth(key_for("read")))).status_code == 403
        blank = await client.post(path, json={"note": "   "}, headers=auth())
        assert blank.status_code == 422
        assert [e["field"] for e in blank.json()["errors"]] == ["note"]
        assert (await client.post(path, json={"note": "x", "more": 1}, headers=auth())).status_code == 422
        unknown = "/v1/customers/C-42/signals/00000000-0000-0000-0000-000000000000/acknowledge"
        assert (await client.post(unknown, json={"note": "x"}, headers=auth())).status_code == 404
        assert (await client.get("/v1/signals?status=nope", headers=auth())).status_code == 422
        assert [s["status"] for s in await open_signals(client)] == ["open"]  # nothing changed
