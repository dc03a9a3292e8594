"""Monitoring end to end: a downgraded rating gives a new limit, an audit event and a signed webhook."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.money import quantize
from app.providers.base import CompanyQuery
from app.providers.simulated import simulated_payload
from app.services import services_of
from app.settings import Settings
from tests.conftest import auth, count_rows, key_for
from tests.erp import decide, put_customer, put_invoice
from tests.monitoring.conftest import Running
from tests.monitoring.receiver import Receiver

EVENTS = ["customer.limit_changed", "customer.risk_changed", "customer.blocked"]


async def subscribe(client: httpx.AsyncClient, url: str, events: list[str] = EVENTS) -> dict[str, Any]:
    response = await client.post("/v1/webhooks", json={"url": url, "event_types": events}, headers=auth())
    assert response.status_code == 201, response.text
    return response.json()


def verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """An independent check of the Standard Webhooks signature."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", part) for part in headers["webhook-signature"].split())


async def downgrade(running: Running) -> None:
    """Class A when the order is decided; the ERP then corrects the number to one the provider rates D."""
    await put_customer(running.client, registration_number="12345670")
    await decide(running.client, "1000.00", "SO-1")
    await put_customer(running.client, registration_number="12345676")


def expected_d_limit() -> Decimal:
    recommended = Decimal(simulated_payload(CompanyQuery("NL", "12345676"))["recommended_limit"])
    return quantize(min(recommended * Decimal("0.30"), Decimal("10000.00")), "EUR")


async def scalar(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql))).scalar_one()


class TestDowngradeIsActedOn:
    async def test_new_limit_audit_event_and_signed_webhook(
        self, running: Running, receiver: Receiver, engine: AsyncEngine
    ) -> None:
        await receiver.start()
        subscription = await subscribe(running.client, receiver.url)
        await downgrade(running)

        result = await services_of(running.app).monitor.run_pass(10)

        assert result.changed == ["C-42"]
        new_limit = await scalar(engine, "SELECT new_limit_minor FROM credit_limit_history")
        assert Decimal(new_limit) / 100 == expected_d_limit()
        assert await scalar(engine, "SELECT limit_minor FROM customer_credit_states") == new_limit
        audit = await scalar(
            engine, "SELECT event_type FROM audit_events WHERE subject_id = 'C-42' AND event_type LIKE '%reassessed'"
        )
        assert audit == "customer.credit_reassessed"

        assert await services_of(running.app).dispatcher.dispatch_once() == 2
        by_type = {json.loads(r.body)["type"]: r for r in receiver.received}
        assert set(by_type) == {"customer.risk_changed", "customer.limit_changed"}
        limit_event = by_type["customer.limit_changed"]
        assert verifies(subscription["secret"], limit_event.headers, limit_event.body)
        data = json.loads(limit_event.body)["data"]
        assert data["new_limit"] == str(expected_d_limit())
        kinds = {change["kind"] for change in data["changes"]}
        assert "rating_downgrade" in kinds

    async def test_tampered_body_does_not_verify(self, running: Running, receiver: Receiver) -> None:
        await receiver.start()
        subscription = await subscribe(running.client, receiver.url)
        await downgrade(running)
        await services_of(running.app).monitor.run_pass(10)
        await services_of(running.app).dispatcher.dispatch_once()
        received = receiver.received[0]
        assert not verifies(subscription["secret"], received.headers, received.body + b" ")

    async def test_insolvency_blocks_the_customer(self, running: Running, engine: AsyncEngine) -> None:
        await put_customer(running.client, registration_number="12345670")
        await decide(running.client, "1000.00", "SO-1")
        await put_customer(running.client, registration_number="12345679")
        await services_of(running.app).monitor.run_pass(10)
        customer = (await running.client.get("/v1/customers/C-42", headers=auth())).json()
        assert customer["credit_block"]["reason"].startswith("monitoring: insolvency")
        assert await scalar(engine, "SELECT new_limit_minor FROM credit_limit_history") == 0


class TestDeliveryRetries:
    async def test_receiver_down_then_up_gets_it_after_backoff(
        self, running: Running, receiver: Receiver, engine: AsyncEngine
    ) -> None:
        await subscribe(running.client, receiver.url)  # nothing listens yet
        await downgrade(running)
        await services_of(running.app).monitor.run_pass(10)

        assert await services_of(running.app).dispatcher.dispatch_once() == 0
        assert await scalar(engine, "SELECT max(attempts) FROM webhook_deliveries") == 1
        assert await scalar(engine, "SELECT max(last_error) FROM webhook_deliveries")
        assert (
            await scalar(engine, "SELECT count(*) FROM webhook_deliveries WHERE next_attempt_at > last_attempt_at") == 2
        )

        await receiver.start()
        for _ in range(200):  # bounded: backoff here is tens of milliseconds
            await services_of(running.app).dispatcher.dispatch_once()
            if len(receiver.received) == 2:
                break
            await asyncio.sleep(0.02)
        assert len(receiver.received) == 2
        assert await scalar(engine, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") == 2

        subscription_id = await scalar(engine, "SELECT id FROM webhook_subscriptions")
        log = (await running.client.get(f"/v1/webhooks/{subscription_id}/deliveries", headers=auth())).json()
        assert {item["status"] for item in log["items"]} == {"delivered"}
        assert all(item["attempts"] >= 2 for item in log["items"])

    async def test_outbox_survives_a_restart(
        self, running: Running, receiver: Receiver, monitor_settings: Settings
    ) -> None:
        await receiver.start()
        subscription = await subscribe(running.client, receiver.url)
        await downgrade(running)
        await services_of(running.app).monitor.run_pass(10)
        # The process "dies" here: nothing was dispatched. A new app instance finds the outbox rows.
        second = create_app(monitor_settings)
        async with second.router.lifespan_context(second):
            assert await services_of(second).dispatcher.dispatch_once() == 2
        assert len(receiver.received) == 2
        assert all(verifies(subscription["secret"], r.headers, r.body) for r in receiver.received)

    async def test_redeliver_sends_the_same_event_again(self, running: Running, receiver: Receiver) -> None:
        await receiver.start()
        subscription = await subscribe(running.client, receiver.url, ["customer.limit_changed"])
        await downgrade(running)
        await services_of(running.app).monitor.run_pass(10)
        await services_of(running.app).dispatcher.dispatch_once()
        path = f"/v1/webhooks/{subscription['id']}/deliveries"
        delivery = (await running.client.get(path, headers=auth())).json()["items"][0]
        response = await running.client.post(f"{path}/{delivery['id']}/redeliver", headers=auth())
        assert response.status_code == 202
        await services_of(running.app).dispatcher.dispatch_once()
        first, again = receiver.received
        assert first.headers["webhook-id"] == again.headers["webhook-id"]


class TestBudget:
    async def test_never_more_paid_calls_than_the_budget_most_exposed_first(
        self, running: Running, engine: AsyncEngine
    ) -> None:
        for index in range(5):
            customer_id = f"C-{index}"
            await put_customer(running.client, customer_id, registration_number=f"1000000{index}{index}")
            await put_invoice(running.client, f"INV-{index}", f"{(index + 1) * 100}.00", customer_id=customer_id)

        result = await services_of(running.app).monitor.run_pass(2)

        assert await count_rows(engine, "credit_reports") == 2
        assert result.report_calls == 2
        assert result.skipped_for_budget == 3
        async with engine.connect() as connection:
            bought = set((await connection.execute(text("SELECT registration_number FROM credit_reports"))).scalars())
        assert bought == {"100000044", "100000033"}


class TestProviderNotification:
    async def test_pushed_rating_changes_the_limit_without_buying(self, running: Running, engine: AsyncEngine) -> None:
        await put_customer(running.client, registration_number="12345670")
        await decide(running.client, "1000.00", "SO-1")
        reports_before = await count_rows(engine, "credit_reports")
        body = {
            "data": [
                {
                    "company": {"id": "NL-X-1", "countryCode": "NL", "registrationNumber": "12345670"},
                    "eventDate": "2026-11-20T08:23:37",
                    "ruleCode": 1,
                    "ruleName": "International Rating Change",
                    "oldValue": "A",
                    "newValue": "D",
                }
            ]
        }
        response = await running.client.post("/v1/providers/notifications", json=body, headers=auth())
        assert response.status_code == 200, response.text
        assert response.json()["applied"] == 1
        assert await count_rows(engine, "credit_reports") == reports_before
        assert await scalar(engine, "SELECT risk_class FROM customer_credit_states") == "D"
        assert await count_rows(engine, "credit_limit_history") == 1

    async def test_needs_admin(self, running: Running) -> None:
        response = await running.client.post(
            "/v1/providers/notifications", json={"data": []}, headers=auth(key_for("receivables"))
        )
        assert response.status_code == 403


class TestErpChanges:
    async def test_block_and_manual_limit_from_the_erp_are_announced(
        self, running: Running, receiver: Receiver
    ) -> None:
        await receiver.start()
        await subscribe(
            running.client, receiver.url, ["customer.blocked", "customer.unblocked", "customer.limit_changed"]
        )
        await put_customer(running.client)
        await put_customer(running.client, credit_block={"reason": "legal dispute"})
        await put_customer(running.client, limit_currency="EUR", manual_limit={"amount": "500.00", "reason": "cfo"})
        await services_of(running.app).dispatcher.dispatch_once()
        types = sorted(json.loads(r.body)["type"] for r in receiver.received)
        assert types == ["customer.blocked", "customer.limit_changed", "customer.unblocked"]


class TestSubscriptions:
    async def test_private_targets_refused_in_production(self, client: httpx.AsyncClient) -> None:
        body = {"url": "http://127.0.0.1:18712/hooks", "event_types": ["customer.blocked"]}
        response = await client.post("/v1/webhooks", json=body, headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "url"

    async def test_admin_only_and_secret_shown_once(self, running: Running, receiver: Receiver) -> None:
        body = {"url": receiver.url, "event_types": ["customer.blocked"]}
        assert (await running.client.post("/v1/webhooks", json=body, headers=auth(key_for("read")))).status_code == 403
        created = await subscribe(running.client, receiver.url, ["customer.blocked"])
        assert created["secret"].startswith("whsec_")
        listed = (await running.client.get("/v1/webhooks", headers=auth())).json()["items"]
        assert [item["id"] for item in listed] == [created["id"]]
        assert "secret" not in listed[0]
        assert (await running.client.delete(f"/v1/webhooks/{created['id']}", headers=auth())).status_code == 204
        assert (await running.client.get("/v1/webhooks", headers=auth())).json()["items"] == []


class TestTwoDispatchers:
    async def test_each_delivery_is_sent_once(
        self, running: Running, receiver: Receiver, monitor_settings: Settings
    ) -> None:
        await receiver.start()
        await subscribe(running.client, receiver.url)
        for index in range(6):  # six customers downgraded: twelve deliveries
            customer_id = f"C-{index}"
            await put_customer(running.client, customer_id, registration_number="12345670")
            await decide(running.client, "1000.00", f"SO-{index}", customer_id=customer_id)
            await put_customer(running.client, customer_id, registration_number="12345676")
        await services_of(running.app).monitor.run_pass(10)
        second = create_app(monitor_settings)
        async with second.router.lifespan_context(second):
            sent = await asyncio.gather(
                services_of(running.app).dispatcher.dispatch_once(), services_of(second).dispatcher.dispatch_once()
            )
        assert sum(sent) == 12
        assert len({r.headers["webhook-id"] for r in receiver.received}) == len(receiver.received) == 12


class TestScheduler:
    async def test_the_lifespan_runs_passes_when_switched_on(
        self, monitor_settings: Settings, engine: AsyncEngine
    ) -> None:
        app = create_app(monitor_settings.model_copy(update={"monitor_interval_seconds": 1}))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as client:
                await downgrade(Running(app, client))
                for _ in range(100):  # bounded: the first pass starts after one second
                    if await count_rows(engine, "credit_limit_history"):
                        break
                    await asyncio.sleep(0.05)
        assert await count_rows(engine, "credit_limit_history") == 1
