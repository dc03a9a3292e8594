"""Limit requests to the insurer: request → pending → answer (by poll or callback), the cover following the
answer, audited and announced; and the decision after it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from click.testing import Result
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.settings import Settings, get_settings
from tests.conftest import auth, count_rows, key_for, order_body, table_counts
from tests.erp import put_customer
from tests.insurance.fake_insurer import FakeInsurer
from tests.insurance.helpers import activate_insurance_policy, audit_events, put_cover


@pytest.fixture
def insurer() -> FakeInsurer:
    return FakeInsurer()


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine, insurer: FakeInsurer) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the fake insurer behind CREDITGATE_INSURER=http."""
    configured = settings.model_copy(
        update={
            "insurer": "http",
            "insurer_base_url": "http://insurer.test/api",
            "insurer_api_key": SecretStr("insurer-key"),
        }
    )
    app = create_app(configured, transport=httpx.MockTransport(insurer.handle))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http:
            yield http


async def request_limit(client: httpx.AsyncClient, customer_id: str = "C-1", **body: object) -> httpx.Response:
    return await client.post(
        f"/v1/customers/{customer_id}/insurer-requests", json=body, headers=auth(key_for("review"))
    )


async def poll(client: httpx.AsyncClient) -> dict[str, int]:
    response = await client.post("/v1/insurance/poll", headers=auth(key_for("admin")))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def decide(client: httpx.AsyncClient, order_id: str) -> dict[str, object]:
    body = order_body("25000.00", order_id=order_id, customer_id="C-1")
    response = await client.post("/v1/decisions", json=body, headers=auth())
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def webhook_events(engine: AsyncEngine, event_type: str) -> int:
    async with engine.connect() as connection:
        statement = text("SELECT count(*) FROM webhook_events WHERE event_type = :type")
        return int((await connection.execute(statement, {"type": event_type})).scalar_one())


class TestLimitRequestByPolling:
    async def test_a_request_moves_through_its_states_and_changes_the_next_decision(
        self, client: httpx.AsyncClient, insurer: FakeInsurer, engine: AsyncEngine
    ) -> None:
        await activate_insurance_policy(client)
        await put_customer(client, "C-1")
        await put_cover(client, "C-1", amount="20000.00")
        before = await decide(client, "SO-1")
        insurer.answer = {"decision": "partly_approved", "amount": "30000.00", "currency": "EUR"}
        insurer.pending_polls = 1

        sent = await request_limit(client, kind="increase", amount="40000.00", currency="EUR")
        first = await poll(client)
        still = (await client.get(f"/v1/insurance/limit-requests/{sent.json()['id']}", headers=auth())).json()
        second = await poll(client)
        answered = (await client.get(f"/v1/insurance/limit-requests/{sent.json()['id']}", headers=auth())).json()
        cover = (await client.get("/v1/customers/C-1/cover", headers=auth())).json()
        after = await decide(client, "SO-1")  # the same order asked again: its earlier credit is not counted

        assert sent.status_code == 201, sent.text
        assert sent.json()["status"] == "pending"
        assert insurer.received[0]["kind"] == "increase"
        assert insurer.received[0]["buyer"]["registration_number"] == "12345670"
        assert (first["still_pending"], still["status"]) == (1, "pending")
        assert (second["answered"], answered["status"]) == (1, "answered")
        assert answered["answer"]["decision"] == "partly_approved"
        assert (cover["amount"], cover["source"], cover["version"]) == ("30000.00", "insurer", 2)
        assert (before["credit_limit"], before["outcome"]) == ("22000.00", "prepayment")
        assert (after["credit_limit"], after["outcome"]) == ("32000.00", "accept")
        assert await webhook_events(engine, "customer.insurer_request_answered") == 1
        assert [e["answer"]["decision"] for e in await audit_events(engine, "insurer_request.answered")] == [
            "partly_approved"
        ]
        assert len(await audit_events(engine, "insurer_request.created")) == 1

    async def test_a_new_cover_granted_on_conditions(self, client: httpx.AsyncClient, insurer: FakeInsurer) -> None:
        await put_customer(client, "C-1")
        insurer.pending_polls = 0
        insurer.answer = {
            "decision": "conditional",
            "amount": "15000.00",
            "currency": "EUR",
            "conditions": "Payment terms of 60 days at most.",
            "buyer_reference": "ALZ-77",
        }
        sent = await request_limit(
            client, kind="new", amount="25000.00", currency="EUR", insurer="Allianz Trade", coverage_percentage="90"
        )
        assert sent.status_code == 201, sent.text
        await poll(client)
        cover = (await client.get("/v1/customers/C-1/cover", headers=auth())).json()
        assert (cover["amount"], cover["insurer"], cover["coverage_percentage"]) == (
            "15000.00",
            "Allianz Trade",
            "90.00",
        )
        assert (cover["buyer_reference"], cover["conditions"]) == ("ALZ-77", "Payment terms of 60 days at most.")


class TestLimitRequestByCallback:
    async def test_a_refusal_leaves_the_cover_and_a_second_answer_is_refused(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-1")
        await put_cover(client, "C-1", amount="20000.00")
        sent = (await request_limit(client, kind="increase", amount="40000.00", currency="EUR")).json()
        url = f"/v1/insurance/limit-requests/{sent['id']}/answer"
        refused = await client.post(url, json={"decision": "refused"}, headers=auth(key_for("admin")))
        again = await client.post(url, json={"decision": "approved"}, headers=auth(key_for("admin")))
        cover = (await client.get("/v1/customers/C-1/cover", headers=auth())).json()
        assert refused.status_code == 200, refused.text
        assert refused.json()["answer"]["decision"] == "refused"
        assert (again.status_code, again.json()["code"]) == (409, "already_answered")
        assert (cover["amount"], cover["version"]) == ("20000.00", 1)
        assert await webhook_events(engine, "customer.insurer_request_answered") == 1

    async def test_an_approved_cancellation_withdraws_the_cover(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-1")
        await put_cover(client, "C-1")
        sent = (await request_limit(client, kind="cancel")).json()
        url = f"/v1/insurance/limit-requests/{sent['id']}/answer"
        await client.post(url, json={"decision": "approved"}, headers=auth(key_for("admin")))
        cover = (await client.get("/v1/customers/C-1/cover", headers=auth())).json()
        assert (cover["status"], cover["in_force"]) == ("withdrawn", False)

    @pytest.mark.parametrize(
        "answer",
        [
            {"decision": "partly_approved"},
            {"decision": "conditional", "amount": "1.00", "currency": "EUR"},
            {"decision": "approved", "amount": "1.001", "currency": "EUR"},
            {"decision": "maybe"},
            {"decision": "approved", "extra": 1},
        ],
    )
    async def test_an_invalid_answer_changes_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine, answer: dict[str, object]
    ) -> None:
        await put_customer(client, "C-1")
        await put_cover(client, "C-1")
        sent = (await request_limit(client, kind="increase", amount="60000.00", currency="EUR")).json()
        before = await table_counts(engine)
        response = await client.post(
            f"/v1/insurance/limit-requests/{sent['id']}/answer", json=answer, headers=auth(key_for("admin"))
        )
        assert response.status_code == 422
        assert await table_counts(engine) == before


class TestRefusedRequests:
    async def test_an_unreachable_insurer_records_nothing(
        self, client: httpx.AsyncClient, insurer: FakeInsurer, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-1")
        insurer.down = True
        response = await request_limit(client, kind="new", amount="1000.00", currency="EUR")
        assert (response.status_code, response.json()["code"]) == (503, "insurer_unavailable")
        assert await count_rows(engine, "insurer_requests") == 0

    async def test_a_change_needs_a_cover_and_a_cancellation_no_amount(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-1")
        increase = await request_limit(client, kind="increase", amount="1000.00", currency="EUR")
        cancel = await request_limit(client, kind="cancel", amount="1000.00", currency="EUR")
        new = await request_limit(client, kind="new")
        assert (increase.status_code, increase.json()["code"]) == (409, "no_cover")
        assert cancel.status_code == 422
        assert new.status_code == 422
        assert (await request_limit(client, "C-404", kind="new", amount="1.00", currency="EUR")).status_code == 404


class TestCommandLine:
    async def test_a_poll_from_cron_counts_an_unreachable_insurer_and_keeps_the_request_pending(
        self, client: httpx.AsyncClient, database_url: str
    ) -> None:
        await put_customer(client, "C-1")
        sent = (await request_limit(client, kind="new", amount="1000.00", currency="EUR")).json()
        env = {
            "CREDITGATE_DATABASE_URL": database_url,
            "CREDITGATE_INSURER": "http",
            "CREDITGATE_INSURER_BASE_URL": "http://127.0.0.1:19005/api",  # nothing listens there
            "CREDITGATE_INSURER_TIMEOUT_MS": "2000",
        }
        result = await asyncio.to_thread(_run_cli, env, "insurance", "poll")
        still = (await client.get(f"/v1/insurance/limit-requests/{sent['id']}", headers=auth())).json()
        assert result.exit_code == 0, result.output
        assert "1 limit request(s) polled: 0 answered, 0 still pending, 1 failed" in result.output
        assert still["status"] == "pending"


def _run_cli(env: dict[str, str], *arguments: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(arguments), env=env)
    finally:
        get_settings.cache_clear()
