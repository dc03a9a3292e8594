"""Review dates: the policy's months per risk class, the queue of limits due, and expired manual limits."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.limits.review_dates import add_months
from tests.conftest import auth, key_for
from tests.erp import credit_file, decide, manual_limit, put_customer
from tests.limits.helpers import REVIEWER, activate_limits_policy, audit_events


def _codes(decision: dict[str, object]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]  # type: ignore[attr-defined, index]


async def _queue(client: httpx.AsyncClient, due_by: date | None = None) -> dict[str, object]:
    query = f"?due_by={due_by.isoformat()}" if due_by else ""
    response = await client.get(f"/v1/limit-reviews{query}", headers=auth(key_for("read")))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _backdate(engine: AsyncEngine, days: int) -> None:
    """As if the limits were last looked at `days` ago."""
    then = datetime.now(UTC) - timedelta(days=days)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE credit_limit_history SET created_at = :then"), {"then": then})
        await connection.execute(text("UPDATE customers SET created_at = :then"), {"then": then})


class TestAddMonths:
    @given(day=st.dates(min_value=date(1, 1, 1), max_value=date(9000, 12, 31)), months=st.integers(0, 600))
    def test_lands_in_the_right_month_on_the_same_day_or_its_last(self, day: date, months: int) -> None:
        later = add_months(day, months)
        assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
        last = calendar.monthrange(later.year, later.month)[1]
        assert later.day == min(day.day, last)

    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            (date(2026, 1, 31), 1, date(2026, 2, 28)),
            (date(2028, 1, 31), 1, date(2028, 2, 29)),
            (date(2026, 12, 15), 1, date(2027, 1, 15)),
            (date(2026, 8, 31), 6, date(2027, 2, 28)),
        ],
    )
    def test_calendar_edges(self, day: date, months: int, expected: date) -> None:
        assert add_months(day, months) == expected


class TestReviewQueue:
    async def test_a_high_risk_limit_is_due_sooner_than_a_low_risk_one(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-A", registration_number="12345670")  # class A: yearly
        await put_customer(client, "C-D", registration_number="12345676")  # class D: every 3 months
        await decide(client, "300.00", "SO-A", customer_id="C-A")
        response = await client.post(
            "/v1/decisions",
            json={
                "order": {"id": "SO-D", "amount": "300.00", "currency": "EUR"},
                "customer": {"id": "C-D", "name": "D", "country": "NL", "registration_number": "12345676"},
            },
            headers=auth(),
        )
        assert response.status_code == 201
        await _backdate(engine, 100)
        queue = await _queue(client)
        items = {item["customer_id"]: item for item in queue["items"]}  # type: ignore[attr-defined]
        assert list(items) == ["C-D"]
        assert (items["C-D"]["risk_class"], items["C-D"]["review_months"], items["C-D"]["why"]) == (
            "D",
            3,
            ["review_date"],
        )
        later = await _queue(client, date.today() + timedelta(days=300))
        assert [item["customer_id"] for item in later["items"]] == ["C-D", "C-A"]  # type: ignore[attr-defined]

    async def test_confirming_moves_the_review_date_on(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client, **manual_limit("8000.00"))
        await _backdate(engine, 400)
        assert [item["customer_id"] for item in (await _queue(client))["items"]] == ["C-42"]  # type: ignore[attr-defined]
        body = {"reason": "Checked the accounts: the limit holds."}
        confirmed = await client.post("/v1/customers/C-42/limit-review", json=body, headers=auth(REVIEWER))
        assert confirmed.status_code == 201, confirmed.text
        assert confirmed.json()["next_review_on"] > date.today().isoformat()
        assert (await _queue(client))["items"] == []
        history = (await client.get("/v1/customers/C-42/limit-history", headers=auth())).json()["items"]
        assert (history[0]["origin"], history[0]["reason"]) == ("review", body["reason"])
        (event,) = await audit_events(engine, "limit.review_confirmed")
        assert event[1]["manual_limit"] == "8000.00"
        refused = await client.post("/v1/customers/C-42/limit-review", json=body, headers=auth(key_for("read")))
        assert refused.status_code == 403
        missing = await client.post("/v1/customers/C-404/limit-review", json=body, headers=auth(REVIEWER))
        assert missing.status_code == 404

    async def test_an_expired_manual_limit_is_due_at_once(self, client: httpx.AsyncClient) -> None:
        expired = {**manual_limit("8000.00")}
        expired["manual_limit"] = {**expired["manual_limit"], "expires_at": "2026-01-01T00:00:00Z"}
        await put_customer(client, **expired)
        (item,) = (await _queue(client))["items"]  # type: ignore[misc]
        assert item["why"] == ["manual_limit_expired"]

    async def test_the_console_lists_the_queue(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        from tests.console.console import sign_in

        await put_customer(client, **manual_limit("8000.00"))
        await _backdate(engine, 400)
        await sign_in(client)
        page = await client.get("/console/limits")
        assert page.status_code == 200
        assert "Limits due for review" in page.text
        assert "C-42" in page.text
        bad = await client.get("/console/limits?due_by=tomorrow")
        assert bad.status_code == 422


class TestExpiredManualLimit:
    async def _expired(self, client: httpx.AsyncClient) -> None:
        body = manual_limit("4000.00")
        body["manual_limit"] = {**body["manual_limit"], "expires_at": "2026-01-01T00:00:00Z"}
        await put_customer(client, registration_number="12345676", **body)  # class D: the grid gives 30 %

    @pytest.mark.parametrize(("fallback", "limit"), [("policy", None), ("zero", "0.00"), ("keep", "4000.00")])
    async def test_falls_back_as_the_policy_says(
        self, client: httpx.AsyncClient, fallback: str, limit: str | None
    ) -> None:
        response = await activate_limits_policy(client, f"expired-{fallback}", expired_manual_limit=fallback)
        assert response.status_code == 201, response.text
        await self._expired(client)
        decision = await decide(client, "300.00", "SO-1")
        assert "MANUAL_LIMIT_EXPIRED" in _codes(decision)
        expired = next(r for r in decision["reasons"] if r["code"] == "MANUAL_LIMIT_EXPIRED")
        assert expired["facts"]["fallback"] == fallback
        if limit is None:
            assert "MANUAL_LIMIT" not in _codes(decision)
            assert decision["credit_limit"] not in ("0.00", "4000.00")
        else:
            assert decision["credit_limit"] == limit
        file = await credit_file(client)
        assert file["limit"]["source"] == ("policy" if fallback == "policy" else "manual")


class TestPolicyValidation:
    @pytest.mark.parametrize(
        ("months", "field"),
        [
            ({"A": 12, "B": 12, "C": 6, "D": 3, "E": 1}, "limits.review_months"),
            ({"A": 12, "B": 12, "C": 6, "D": 3, "E": 6, "unknown": 6}, "limits.review_months.E"),
            ({"A": 12, "B": 12, "C": 6, "D": 3, "E": 0, "unknown": 6}, "limits.review_months.E"),
            ({"A": 12, "B": 12, "C": 6, "D": 3, "E": 1, "unknown": 6, "F": 1}, "limits.review_months"),
        ],
    )
    async def test_refuses_incoherent_review_months(
        self, client: httpx.AsyncClient, months: dict[str, int], field: str
    ) -> None:
        response = await activate_limits_policy(client, "bad-months", review_months=months)
        assert response.status_code == 422, response.text
        assert field in [error["field"] for error in response.json()["errors"]]
