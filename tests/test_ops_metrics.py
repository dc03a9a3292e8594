"""The metrics the alert rules in deploy/prometheus/alerts.yaml watch: webhook backlog, audit verification."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings
from app.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.conftest import auth, key_for
from tests.test_observability import scrape


@pytest.fixture
async def quiet_client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its dispatcher, so the deliveries a test stores stay where they are."""
    app = create_app(settings.model_copy(update={"webhooks_dispatch_interval_seconds": 0}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http:
            yield http


async def store_deliveries(engine: AsyncEngine, now: datetime, due: list[tuple[str, timedelta]]) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(WebhookSubscription).values(
                id="sub-1",
                url="https://erp.example/hooks",
                event_types=["decision.created"],
                description=None,
                secret="whsec_test",
                active=True,
                created_at=now,
            )
        )
        await connection.execute(
            insert(WebhookEvent).values(id="msg_1", event_type="decision.created", payload={}, created_at=now)
        )
        for status, offset in due:
            await connection.execute(
                insert(WebhookDelivery).values(
                    id=str(uuid.uuid4()),
                    subscription_id="sub-1",
                    event_id="msg_1",
                    status=status,
                    attempts=1,
                    next_attempt_at=now + offset,
                    created_at=now,
                )
            )


class TestWebhookBacklog:
    async def test_counts_pending_deliveries_and_the_wait_of_the_oldest_due(
        self, quiet_client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        now = datetime.now(UTC)
        due = [
            ("pending", timedelta(minutes=-15)),
            ("pending", timedelta(minutes=-1)),
            ("pending", timedelta(minutes=30)),
            ("delivered", timedelta(hours=-2)),
            ("failed", timedelta(hours=-3)),
        ]
        await store_deliveries(engine, now, due)
        samples = await scrape(quiet_client)
        assert samples[("creditgate_webhook_deliveries_pending", ())] == 3
        assert 15 * 60 <= samples[("creditgate_webhook_oldest_due_seconds", ())] < 20 * 60

    async def test_nothing_due_is_zero(self, quiet_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await store_deliveries(engine, datetime.now(UTC), [("pending", timedelta(minutes=5))])
        samples = await scrape(quiet_client)
        assert samples[("creditgate_webhook_deliveries_pending", ())] == 1
        assert samples[("creditgate_webhook_oldest_due_seconds", ())] == 0


class TestAuditVerification:
    async def test_a_verification_through_the_api_sets_the_gauges(self, client: httpx.AsyncClient) -> None:
        started = datetime.now(UTC).timestamp()
        assert (await client.get("/v1/audit/verify", headers=auth(key_for("admin")))).json()["intact"]
        samples = await scrape(client)
        assert samples[("creditgate_audit_chain_intact", ())] == 1
        assert samples[("creditgate_audit_last_verification_timestamp_seconds", ())] >= int(started)
        broken = await client.get(
            "/v1/audit/verify", params={"anchor_seq": 1, "anchor_hash": "0" * 64}, headers=auth(key_for("admin"))
        )
        assert broken.json()["intact"] is False
        assert (await scrape(client))[("creditgate_audit_chain_intact", ())] == 0
