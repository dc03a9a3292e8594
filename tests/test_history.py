"""GET /v1/decisions and /v1/decisions/{id}: filters, newest first, cursor paging."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import auth, order_body


async def seed(client: httpx.AsyncClient, count: int, **kwargs: str) -> list[dict]:
    decisions = []
    for index in range(count):
        body = order_body(
            kwargs.get("amount", "300.00"),
            kwargs.get("registration_number", "12345670"),
            order_id=f"SO-{kwargs.get('prefix', 'A')}-{index}",
            customer_id=kwargs.get("customer_id", "C-1"),
        )
        response = await client.post("/v1/decisions", json=body, headers=auth())
        assert response.status_code == 201
        decisions.append(response.json())
    return decisions


class TestOneDecision:
    async def test_returns_the_decision_with_its_inputs(self, client: httpx.AsyncClient) -> None:
        created = (await seed(client, 1))[0]
        response = await client.get(f"/v1/decisions/{created['id']}", headers=auth())
        assert response.status_code == 200
        detail = response.json()
        for field in ("outcome", "amount", "credit_limit", "approved_credit_amount", "reasons", "policy_version"):
            assert detail[field] == created[field]
        assert detail["request"]["order"]["id"] == created["order_id"]
        assert detail["inputs"]["report"]["risk_class"] == "A"
        assert detail["report_snapshot"]["raw_hash"]
        assert detail["timings"]["total_ms"] >= 0

    async def test_answers_404_problem_for_an_unknown_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/decisions/no-such-decision", headers=auth())
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


class TestFilters:
    async def test_filters_by_customer_order_and_outcome(self, client: httpx.AsyncClient) -> None:
        await seed(client, 3, customer_id="C-1", prefix="A")
        await seed(client, 2, customer_id="C-2", prefix="B", registration_number="12345679")
        by_customer = (await client.get("/v1/decisions", params={"customer_id": "C-2"}, headers=auth())).json()
        assert {item["customer_id"] for item in by_customer["items"]} == {"C-2"}
        assert len(by_customer["items"]) == 2
        rejected = (await client.get("/v1/decisions", params={"outcome": "reject"}, headers=auth())).json()
        assert len(rejected["items"]) == 2
        by_order = (await client.get("/v1/decisions", params={"order_id": "SO-A-1"}, headers=auth())).json()
        assert [item["order_id"] for item in by_order["items"]] == ["SO-A-1"]

    async def test_filters_by_decision_time(self, client: httpx.AsyncClient) -> None:
        await seed(client, 2)
        now = datetime.now(UTC)
        future = (
            await client.get(
                "/v1/decisions", params={"decided_from": (now + timedelta(minutes=1)).isoformat()}, headers=auth()
            )
        ).json()
        assert future["items"] == []
        past = (
            await client.get(
                "/v1/decisions",
                params={
                    "decided_to": (now + timedelta(minutes=1)).isoformat(),
                    "decided_from": (now - timedelta(hours=1)).isoformat(),
                },
                headers=auth(),
            )
        ).json()
        assert len(past["items"]) == 2


class TestPaging:
    async def test_pages_newest_first_without_gaps_or_repeats(self, client: httpx.AsyncClient) -> None:
        created = await seed(client, 7)
        seen: list[str] = []
        cursor = None
        for _ in range(10):
            params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/v1/decisions", params=params, headers=auth())).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [decision["id"] for decision in reversed(created)]

    async def test_new_decisions_do_not_shift_a_page_in_progress(self, client: httpx.AsyncClient) -> None:
        created = await seed(client, 4, prefix="old")
        first = (await client.get("/v1/decisions", params={"limit": 2}, headers=auth())).json()
        await asyncio.gather(*(seed(client, 1, prefix=f"new{i}") for i in range(3)))
        second = (
            await client.get("/v1/decisions", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth())
        ).json()
        assert [item["id"] for item in first["items"] + second["items"]] == [d["id"] for d in reversed(created)]
        assert second["next_cursor"] is None
