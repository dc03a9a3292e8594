"""Deliveries are bounded: a capped read of the answer, one deadline per attempt, and no bad row stops a pass."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import utcnow
from app.main import create_app
from app.services import services_of
from app.settings import Settings
from app.webhooks.dispatcher import MAX_RESPONSE_BYTES, Dispatcher
from app.webhooks.models import WebhookSubscription
from app.webhooks.service import enqueue_event
from app.webhooks.signing import new_secret
from tests.conftest import auth
from tests.monitoring.conftest import Running
from tests.monitoring.receiver import ENDLESS_BYTES, Receiver
from tests.monitoring.test_monitoring import scalar, subscribe
from tests.monitoring.test_webhook_targets import Answers


async def announce(running: Running) -> None:
    async with services_of(running.app).database.transaction() as session:
        await enqueue_event(session, "customer.blocked", {"customer_id": "C-42"})


async def last_delivery(engine: AsyncEngine) -> tuple[str, int | None, str | None]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(text("SELECT status, last_status_code, last_error FROM webhook_deliveries"))
        ).one()
    return row[0], row[1], row[2]


class TestBoundedAnswers:
    async def test_an_endless_body_is_read_only_up_to_the_cap(
        self, running: Running, receiver: Receiver, engine: AsyncEngine
    ) -> None:
        receiver.mode = "endless"
        await receiver.start()
        await subscribe(running.client, receiver.url, ["customer.blocked"])
        await announce(running)

        started = time.monotonic()
        assert await services_of(running.app).dispatcher.dispatch_once() == 1
        print(
            f"endless body: the receiver got {receiver.body_bytes_sent} bytes out before the dispatcher hung up "
            f"(cap {MAX_RESPONSE_BYTES}); {time.monotonic() - started:.2f} s"
        )
        assert await last_delivery(engine) == ("delivered", 200, None)
        # Socket buffers let the receiver write some megabytes ahead; reading it all would take ENDLESS_BYTES.
        assert receiver.body_bytes_sent < ENDLESS_BYTES // 8

    async def test_an_answer_that_never_completes_ends_at_the_attempts_deadline(
        self, running: Running, receiver: Receiver, engine: AsyncEngine, monitor_settings: Settings
    ) -> None:
        receiver.mode = "trickle"  # a byte every 100 ms: no read ever times out
        await receiver.start()
        await subscribe(running.client, receiver.url, ["customer.blocked"])
        await announce(running)

        started = time.monotonic()
        assert await services_of(running.app).dispatcher.dispatch_once() == 0
        print(f"trickling receiver: the attempt ended after {time.monotonic() - started:.2f} s")
        status, code, error = await last_delivery(engine)
        assert (status, code) == ("pending", None)
        assert error == f"no answer within {monitor_settings.webhooks_timeout_seconds:g} s"


@dataclass
class Recorded:
    running: Running
    requests: list[httpx.Request]


@asynccontextmanager
async def recording_app(settings: Settings) -> AsyncIterator[Recorded]:
    """The app with the network under its outgoing client replaced by one that records each request."""
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(204)

    app = create_app(settings, transport=httpx.MockTransport(handle))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as client:
            yield Recorded(Running(app, client), requests)


@pytest.fixture
async def recorded(monitor_settings: Settings, engine: AsyncEngine) -> AsyncIterator[Recorded]:
    async with recording_app(monitor_settings) as recorded:
        yield recorded


@pytest.fixture
async def production(monitor_settings: Settings, engine: AsyncEngine) -> AsyncIterator[Recorded]:
    """As deployed: private targets refused."""
    async with recording_app(monitor_settings.model_copy(update={"webhooks_allow_private_targets": False})) as app:
        yield app


class TestConnectsToTheCheckedAddress:
    async def test_a_name_is_resolved_once_and_the_connection_goes_to_that_address(self, recorded: Recorded) -> None:
        await subscribe(recorded.running.client, "http://localhost:18712/hooks", ["customer.blocked"])
        await announce(recorded.running)
        assert await services_of(recorded.running.app).dispatcher.dispatch_once() == 1
        (request,) = recorded.requests
        assert request.url.host in ("127.0.0.1", "::1")  # an address: nothing left for a second resolution
        assert request.url.port == 18712
        assert request.url.path == "/hooks"
        assert request.headers["host"] == "localhost:18712"

    async def test_https_keeps_the_subscribed_name_for_sni_and_the_certificate(self, recorded: Recorded) -> None:
        await subscribe(recorded.running.client, "https://localhost/hooks", ["customer.blocked"])
        await announce(recorded.running)
        assert await services_of(recorded.running.app).dispatcher.dispatch_once() == 1
        (request,) = recorded.requests
        assert request.url.host in ("127.0.0.1", "::1")
        assert request.headers["host"] == "localhost"
        assert request.extensions["sni_hostname"] == "localhost"


PUBLIC_TARGET = "https://93.184.215.14/hooks"  # an address literal: no DNS needed, and the transport is faked


class TestBadStoredTargets:
    @pytest.mark.parametrize(
        "url",
        [
            "https://hooks.example.com:99999/hooks",
            "https://hooks.example.com:0/hooks",
            "https://2130706433/hooks",
            "https://[::127.0.0.1]/hooks",
            "https://localhost./hooks",
            "https://exa mple/",
        ],
    )
    async def test_a_target_stored_before_validation_fails_its_delivery_and_stalls_nothing(
        self, production: Recorded, engine: AsyncEngine, url: str
    ) -> None:
        async with engine.begin() as connection:
            await connection.execute(
                insert(WebhookSubscription),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "url": url,
                        "event_types": ["customer.blocked"],
                        "secret": new_secret(),
                        "active": True,
                        "created_at": utcnow(),
                    }
                ],
            )
        good = await subscribe(production.running.client, PUBLIC_TARGET, ["customer.blocked"])
        await announce(production.running)

        assert await services_of(production.running.app).dispatcher.dispatch_once() == 1
        assert [str(request.url) for request in production.requests] == [PUBLIC_TARGET]
        log = (await production.running.client.get(f"/v1/webhooks/{good['id']}/deliveries", headers=auth())).json()
        assert [item["status"] for item in log["items"]] == ["delivered"]
        error = await scalar(engine, "SELECT max(last_error) FROM webhook_deliveries WHERE status = 'pending'")
        assert error.startswith("refused target: ")


class TestDnsRebinding:
    async def test_a_delivery_resolves_once_and_connects_to_the_address_it_checked(
        self, production: Recorded, engine: AsyncEngine
    ) -> None:
        """The second answer (inward) would be what a resolve-then-connect client connects to; it is never asked."""
        answers = Answers(["93.184.215.14"], ["127.0.0.1"])
        app = production.running.app
        dispatcher = Dispatcher(
            services_of(app).database, services_of(app).http, services_of(app).dispatcher.rules, lookup=answers
        )
        await subscribe(production.running.client, "https://hooks.example.com/creditgate", ["customer.blocked"])
        await announce(production.running)

        assert await dispatcher.dispatch_once() == 1
        assert answers.lookups == ["hooks.example.com"]
        (request,) = production.requests
        assert str(request.url) == "https://93.184.215.14/creditgate"
        assert request.headers["host"] == "hooks.example.com"
        assert request.extensions["sni_hostname"] == "hooks.example.com"
