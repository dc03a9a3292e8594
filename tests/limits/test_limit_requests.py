"""Limit requests: asked by sales or a credit manager, decided by reviewers, applied with history and events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import ALL_KEY, auth, count_rows, key_for, table_counts
from tests.erp import credit_file, decide, manual_limit, put_customer
from tests.limits.helpers import (
    REVIEWER,
    SALES,
    SECOND_REVIEWER,
    ask,
    asked,
    audit_events,
    chain_intact,
    review,
    webhook_events,
)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _held_back(client: httpx.AsyncClient) -> None:
    """C-42 with a manual limit of 1,000.00 EUR: an order of 3,000.00 goes partly to prepayment."""
    await put_customer(client, **manual_limit("1000.00"))


class TestAskingForALimit:
    async def test_a_sales_key_asks_and_the_request_waits_for_a_reviewer(self, client: httpx.AsyncClient) -> None:
        await _held_back(client)
        request = await asked(client)
        assert request["status"] == "pending"
        assert request["awaiting"] == "first_review"
        assert request["requester_role"] == "sales"
        assert request["requested_by"].startswith("key_")
        assert (request["amount"], request["currency"], request["current_limit"]) == ("5000.00", "EUR", "1000.00")
        assert request["four_eyes"] is False
        assert request["valid_until"].endswith("Z")
        listed = (await client.get("/v1/limit-requests?status=pending", headers=auth(key_for("read")))).json()
        assert [item["id"] for item in listed["items"]] == [request["id"]]

    async def test_a_credit_manager_asks_as_credit_manager(self, client: httpx.AsyncClient) -> None:
        await _held_back(client)
        assert (await asked(client, REVIEWER))["requester_role"] == "credit_manager"

    async def test_keys_without_sales_or_review_cannot_ask(self, client: httpx.AsyncClient) -> None:
        await _held_back(client)
        for scope in ("read", "decide", "receivables", "admin"):
            assert (await ask(client, key_for(scope))).status_code == 403

    async def test_refuses_bad_requests_and_stores_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await _held_back(client)
        await put_customer(client, "C-43", parent_id="C-42")
        before = await table_counts(engine)
        soon = _z(datetime.now(UTC) + timedelta(days=10))
        cases = [
            ({"amount": "5000.001"}, 422, "amount"),
            ({"amount": 5000}, 422, "amount"),
            ({"amount": "-1.00"}, 422, "amount"),
            ({"unknown": 1}, 422, "unknown"),
            ({"reason": "   "}, 422, "reason"),
            ({"kind": "temporary", "amount": "100.00"}, 422, "ends_at"),
            ({"kind": "temporary", "amount": "0.00", "ends_at": soon}, 422, "amount"),
            (
                {"kind": "temporary", "amount": "10.00", "ends_at": _z(datetime.now(UTC) + timedelta(days=400))},
                422,
                "ends_at",
            ),
            ({"starts_at": soon}, 422, "starts_at"),
            ({"valid_until": _z(datetime.now(UTC) + timedelta(days=31))}, 422, "valid_until"),
            ({"valid_until": "2020-01-01T00:00:00Z"}, 422, "valid_until"),
            ({"currency": "USD"}, 409, "currency"),
            ({"customer_id": "C-43", "target": "group"}, 409, "target"),
            ({"customer_id": "C-404"}, 404, None),
        ]
        for fields, status, field in cases:
            response = await ask(client, **fields)
            assert response.status_code == status, (fields, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            if field is not None and status != 404:
                named = [error["field"] for error in response.json()["errors"]]
                assert any(field in name for name in named), (fields, named)
        assert await table_counts(engine) == before


class TestApproval:
    async def test_approval_raises_the_limit_and_the_next_order_is_accepted(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await _held_back(client)
        held = await decide(client, "3000.00", "SO-1")
        assert held["outcome"] == "prepayment"
        assert "EXCEEDS_AVAILABLE_CREDIT" in [reason["code"] for reason in held["reasons"]]
        request = await asked(client)
        response = await review(client, request["id"])
        assert response.status_code == 201, response.text
        decided = response.json()
        assert decided["status"] == "approved"
        assert decided["awaiting"] is None
        assert [(r["step"], r["outcome"], r["final"]) for r in decided["reviews"]] == [(1, "approve", True)]
        assert (await credit_file(client))["limit"]["amount"] == "5000.00"
        accepted = await decide(client, "3000.00", "SO-2")
        assert accepted["outcome"] == "accept"
        changed = await webhook_events(engine, "customer.limit_changed")
        assert changed[-1]["new_limit"] == "5000.00"
        assert changed[-1]["source"] == "request"
        assert changed[-1]["request_id"] == request["id"]
        outcome = await webhook_events(engine, "limit_request.decided")
        assert [(e["request_id"], e["outcome"], e["amount"]) for e in outcome] == [
            (request["id"], "approved", "5000.00")
        ]
        assert [payload["request_id"] for _, payload in await audit_events(engine, "limit_request.created")] == [
            request["id"]
        ]
        reviewed = await audit_events(engine, "limit_request.reviewed")
        assert [(p["request_id"], p["status"]) for _, p in reviewed] == [(request["id"], "approved")]
        credit_changes = await audit_events(engine, "customer.credit_changed")
        assert credit_changes[-1][1]["after"]["manual_limit"] == "5000.00"
        assert credit_changes[-1][1]["request_id"] == request["id"]
        assert await chain_intact(client)

    async def test_a_refusal_changes_no_limit(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await _held_back(client)
        request = await asked(client)
        refused = (await review(client, request["id"], outcome="refuse", reason="Too early.")).json()
        assert refused["status"] == "refused"
        assert (await credit_file(client))["limit"]["amount"] == "1000.00"
        assert [e["outcome"] for e in await webhook_events(engine, "limit_request.decided")] == ["refused"]
        again = await review(client, request["id"], key=SECOND_REVIEWER)
        assert again.status_code == 409
        assert again.json()["code"] == "limit_request_not_pending"

    async def test_a_group_limit_request_sets_the_roots_group_limit(self, client: httpx.AsyncClient) -> None:
        await _held_back(client)
        request = await asked(client, target="group", amount="20000.00")
        assert (await review(client, request["id"])).json()["status"] == "approved"
        customer = (await client.get("/v1/customers/C-42", headers=auth())).json()
        assert customer["group_limit"] == "20000.00"
        assert customer["manual_limit"]["amount"] == "1000.00"


class TestWhoDecides:
    async def test_the_requester_cannot_approve_its_own_request(self, client: httpx.AsyncClient) -> None:
        await _held_back(client)
        request = await asked(client, ALL_KEY)
        response = await review(client, request["id"], key=ALL_KEY)
        assert response.status_code == 403
        assert response.json()["code"] == "requester_cannot_review"
        assert (await client.get(f"/v1/limit-requests/{request['id']}", headers=auth())).json()["status"] == "pending"

    async def test_a_sales_key_cannot_review(self, client: httpx.AsyncClient) -> None:
        await _held_back(client)
        request = await asked(client, REVIEWER)
        assert (await review(client, request["id"], key=SALES)).status_code == 403

    async def test_four_eyes_hold_for_a_large_request(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await _held_back(client)
        request = await asked(client, amount="30000.00")
        assert request["four_eyes"] is True
        first = (await review(client, request["id"])).json()
        assert (first["status"], first["awaiting"]) == ("pending", "second_review")
        assert (await credit_file(client))["limit"]["amount"] == "1000.00"
        same = await review(client, request["id"])
        assert same.status_code == 409
        assert same.json()["code"] == "four_eyes_required_other_reviewer"
        second = (await review(client, request["id"], key=SECOND_REVIEWER)).json()
        assert second["status"] == "approved"
        assert [(r["step"], r["final"]) for r in second["reviews"]] == [(1, False), (2, True)]
        customer = (await client.get("/v1/customers/C-42", headers=auth())).json()
        assert customer["manual_limit"]["amount"] == "30000.00"
        assert await count_rows(engine, "limit_request_reviews") == 2

    async def test_a_second_reviewer_may_refuse_what_the_first_approved(self, client: httpx.AsyncClient) -> None:
        await _held_back(client)
        request = await asked(client, amount="30000.00")
        await review(client, request["id"])
        refused = (await review(client, request["id"], key=SECOND_REVIEWER, outcome="refuse")).json()
        assert refused["status"] == "refused"
        assert (await client.get("/v1/customers/C-42", headers=auth())).json()["manual_limit"]["amount"] == "1000.00"

    async def test_two_reviewers_at_once_one_wins(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await _held_back(client)
        request = await asked(client)
        responses = await asyncio.gather(
            review(client, request["id"], key=REVIEWER), review(client, request["id"], key=SECOND_REVIEWER)
        )
        assert sorted(response.status_code for response in responses) == [201, 409]
        assert await count_rows(engine, "limit_request_reviews") == 1
        assert len(await webhook_events(engine, "limit_request.decided")) == 1
        async with engine.connect() as connection:
            changes = (
                await connection.execute(text("SELECT count(*) FROM credit_limit_history WHERE source = 'request'"))
            ).scalar_one()
        assert changes == 1

    async def test_a_lapsed_request_cannot_be_decided(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await _held_back(client)
        request = await asked(client)
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE limit_requests SET valid_until = :past"),
                {"past": datetime.now(UTC) - timedelta(seconds=1)},
            )
        assert (await client.get(f"/v1/limit-requests/{request['id']}", headers=auth())).json()["status"] == "expired"
        response = await review(client, request["id"])
        assert response.status_code == 409
        assert response.json()["code"] == "limit_request_expired"
        assert (await credit_file(client))["limit"]["amount"] == "1000.00"

    async def test_an_unknown_request_is_404(self, client: httpx.AsyncClient) -> None:
        assert (await review(client, "no-such-request")).status_code == 404
        assert (await client.get("/v1/limit-requests/no-such-request", headers=auth())).status_code == 404
