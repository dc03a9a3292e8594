"""The limit history: every change of a customer's limit with its source, who, when and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import key_id
from tests.conftest import ALL_KEY, auth, key_for
from tests.console.console import csrf_token, sign_in
from tests.erp import credit_file, decide, manual_limit, put_customer
from tests.limits.helpers import REVIEWER, SALES, asked, chain_intact, review


async def _history(client: httpx.AsyncClient, customer_id: str = "C-42") -> list[dict[str, object]]:
    response = await client.get(f"/v1/customers/{customer_id}/limit-history", headers=auth(key_for("read")))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


class TestLimitHistory:
    async def test_a_good_payer_held_back_is_raised_and_the_history_shows_each_step(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, **manual_limit("1000.00"))
        assert (await decide(client, "3000.00", "SO-1"))["outcome"] == "prepayment"
        request = await asked(client, SALES, amount="4000.00")
        assert (await review(client, request["id"], key=REVIEWER)).json()["status"] == "approved"
        assert (await decide(client, "3000.00", "SO-2"))["outcome"] == "accept"
        ends = (datetime.now(UTC) + timedelta(days=7)).isoformat().replace("+00:00", "Z")
        uplift = await asked(client, SALES, kind="temporary", amount="500.00", ends_at=ends, reason="Trade fair.")
        await review(client, uplift["id"], key=REVIEWER)

        history = await _history(client)
        steps = [(item["source"], item["origin"], item["old_limit"], item["new_limit"]) for item in reversed(history)]
        assert steps == [
            ("manual", "erp", None, "1000.00"),
            ("request", "request", "1000.00", "4000.00"),
            ("request", "request", None, "500.00"),
        ]
        newest, raised, first = history
        assert raised["request_id"] == request["id"]
        assert raised["actor"] == key_id(REVIEWER)
        assert raised["reason"] == "Pays well."
        assert raised["changes"] == [{"field": "manual_limit", "old": "1000.00", "new": "4000.00"}]
        assert newest["changes"][0]["field"] == "temporary_uplift"
        assert newest["changes"][0]["ends_at"] is not None
        assert first["actor"] == key_id(ALL_KEY)
        assert all(str(item["changed_at"]).endswith("Z") for item in history)

        file = await credit_file(client)
        assert [item["id"] for item in file["limit_history"]] == [item["id"] for item in history]
        assert file["limit"]["uplift"]["amount"] == "500.00"
        assert file["limit"]["uplift"]["in_force"] is True
        assert file["limit"]["amount"] == "4500.00"
        assert await chain_intact(client)

    async def test_console_changes_are_history_too_and_the_page_shows_them(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await sign_in(client)
        page = await client.get("/console/customers/C-42")
        assert "No limit changes recorded yet." in page.text
        response = await client.post(
            "/console/customers/C-42/manual-limit",
            data={"csrf_token": csrf_token(page), "amount": "7500.00", "currency": "EUR", "reason": "bank guarantee"},
        )
        assert response.status_code == 303
        (change,) = await _history(client)
        assert (change["source"], change["origin"], change["new_limit"]) == ("manual", "console", "7500.00")
        assert change["reason"] == "bank guarantee"
        page = await client.get("/console/customers/C-42")
        assert "Limit history" in page.text
        assert "bank guarantee" in page.text
        assert "7,500.00" in page.text or "7500.00" in page.text

    async def test_an_erp_put_without_a_limit_change_adds_no_history(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("1000.00"))
        await put_customer(client, name="Renamed B.V.", **manual_limit("1000.00"))
        assert len(await _history(client)) == 1
        await put_customer(client, name="Renamed B.V.")
        cleared = (await _history(client))[0]
        assert (cleared["old_limit"], cleared["new_limit"]) == ("1000.00", None)

    async def test_unknown_customer_and_bad_limit(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/v1/customers/C-404/limit-history", headers=auth())).status_code == 404
        await put_customer(client)
        for bad in ("0", "501", "x"):
            response = await client.get(f"/v1/customers/C-42/limit-history?limit={bad}", headers=auth())
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == "query.limit"
