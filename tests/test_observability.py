"""/metrics moves with the traffic; every response carries a request id; logs are JSON with identifiers only."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.observability.logging import JsonFormatter
from app.settings import Settings
from tests.conftest import auth, key_for, order_body

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


class TestMetrics:
    async def test_counters_move_with_decisions(self, client: httpx.AsyncClient) -> None:
        before = await scrape(client)
        for amount, registration in (("1250.00", "12345670"), ("1250.00", "12345679"), ("60000.00", "12345671")):
            body = order_body(amount, registration, order_id=f"SO-{registration}")
            assert (await client.post("/v1/decisions", json=body, headers=auth())).status_code == 201
        after = await scrape(client)
        assert delta(before, after, "creditgate_decisions_total", outcome="accept") == 1
        assert delta(before, after, "creditgate_decisions_total", outcome="reject") == 1
        assert delta(before, after, "creditgate_decisions_total", outcome="review") == 1
        assert delta(before, after, "creditgate_decision_duration_seconds_count") == 3
        # One after the other, each decision had its shared read and write to itself.
        for queue in ("decision_reads", "decision_writes"):
            assert delta(before, after, "creditgate_shared_transaction_items_count", queue=queue) == 3
            assert delta(before, after, "creditgate_shared_transaction_items_sum", queue=queue) == 3
        assert delta(before, after, "creditgate_provider_calls_total", provider="simulated", result="ok") == 3
        assert delta(before, after, "creditgate_provider_cost_total", provider="simulated", currency="EUR") > 0
        posted = {"method": "POST", "route": "/v1/decisions", "status": "201"}
        assert delta(before, after, "creditgate_http_requests_total", **posted) == 3
        assert after[("creditgate_reviews_open", ())] == 1

    async def test_needs_a_key_only_when_a_scope_is_configured(self, settings: Settings, engine: AsyncEngine) -> None:
        app = create_app(settings.model_copy(update={"metrics_scope": "admin"}))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as client:
                assert (await client.get("/metrics")).status_code == 401
                assert (await client.get("/metrics", headers=auth(key_for("read")))).status_code == 403
                assert "creditgate_decisions" in (await client.get("/metrics", headers=auth(key_for("admin")))).text


class TestRequestId:
    async def test_echoes_a_sane_request_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/live", headers={"X-Request-ID": "checkout-7f3a.91"})
        assert response.headers["x-request-id"] == "checkout-7f3a.91"

    @pytest.mark.parametrize("given", [None, "has spaces in it", "x" * 129, "<script>", "-leading-dash"])
    async def test_replaces_a_missing_or_odd_one_with_a_fresh_id(
        self, client: httpx.AsyncClient, given: str | None
    ) -> None:
        headers = {"X-Request-ID": given} if given else {}
        response = await client.get("/health/live", headers=headers)
        generated = response.headers["x-request-id"]
        assert generated != given
        assert len(generated) == 32
        assert int(generated, 16) >= 0

    async def test_errors_carry_it_too(self, client: httpx.AsyncClient) -> None:
        for response in (
            await client.get("/v1/decisions", headers={"X-Request-ID": "r-401"}),
            await client.get("/no/such/route", headers={"X-Request-ID": "r-404", **auth()}),
            await client.post("/v1/decisions", content=b"x" * 300_000, headers={"X-Request-ID": "r-413", **auth()}),
        ):
            assert response.headers["x-request-id"] == f"r-{response.status_code}"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The JSON lines the root logger writes at the default level while the test runs, formatted as emitted."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(previous)


class TestLogs:
    async def test_lines_are_json_with_the_request_id_and_key_id(
        self, client: httpx.AsyncClient, log_lines: io.StringIO
    ) -> None:
        response = await client.post(
            "/v1/decisions", json=order_body(), headers={"X-Request-ID": "req-123", **auth(key_for("decide"))}
        )
        lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
        # One line per request; a decision's carries its identifiers and outcome.
        (access,) = [line for line in lines if line["logger"] == "creditgate.access"]
        assert access["message"] == "request"
        assert access["decision_id"] == response.json()["id"]
        assert (access["order_id"], access["customer_id"]) == ("SO-1001", "C-42")
        assert access["outcome"] == response.json()["outcome"]
        assert access["request_id"] == "req-123"
        assert access["key_id"].startswith("key_")
        assert (access["route"], access["status"], access["method"]) == ("/v1/decisions", 201, "POST")
        assert access["time"].endswith("Z")

    async def test_no_personal_data_reaches_the_logs(self, client: httpx.AsyncClient, log_lines: io.StringIO) -> None:
        body = order_body(registration_number="98765430")
        body["customer"]["name"] = "Bakkerij Zonnebloem B.V."
        assert (await client.post("/v1/decisions", json=body, headers=auth())).status_code == 201
        invalid = {**body, "order": {**body["order"], "amount": "-5"}}
        assert (await client.post("/v1/decisions", json=invalid, headers=auth())).status_code == 422
        written = log_lines.getvalue()
        assert "decision_id" in written
        assert "Zonnebloem" not in written
        assert "98765430" not in written
