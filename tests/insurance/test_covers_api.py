"""Covers as their own record: recorded by credit managers, versioned, audited, read by anyone with `read`."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, key_for, table_counts
from tests.erp import put_customer
from tests.insurance.helpers import TODAY, audit_events, cover_body, put_cover


class TestRecordCover:
    async def test_creates_then_changes_a_cover_keeping_every_version(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-42")
        created = await put_cover(client, excludes_vat=True, conditions="Report overdue within 60 days.")
        changed = await put_cover(client, amount="65000.00")
        again = await put_cover(client, amount="65000.00")
        read = await client.get("/v1/customers/C-42/cover", headers=auth(key_for("read")))
        history = await client.get("/v1/customers/C-42/cover/history", headers=auth(key_for("read")))
        assert created.status_code == 201, created.text
        assert created.json()["version"] == 1
        assert created.json()["in_force"] is True
        assert created.json()["coverage_percentage"] == "90.00"
        assert created.json()["excludes_vat"] is True
        assert changed.status_code == 200
        assert changed.json()["version"] == 2
        assert again.json()["version"] == 2  # the same terms again are no new version
        assert read.json()["amount"] == "65000.00"
        assert read.json()["source"] == "api"
        assert [item["version"] for item in history.json()["items"]] == [2, 1]
        assert history.json()["items"][1]["cover"]["amount"] == "50000.00"
        events = await audit_events(engine, "cover.changed")
        assert [(e["version"], e["before"] and e["before"]["amount"]) for e in events] == [
            (1, None),
            (2, "50000.00"),
        ]
        verified = await client.get("/v1/audit/verify", headers=auth())
        assert verified.json()["intact"] is True

    async def test_a_cover_out_of_its_period_or_not_active_is_not_in_force(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-1")
        await put_customer(client, "C-2")
        await put_customer(client, "C-3")
        future = await put_cover(client, "C-1", valid_from=(TODAY + timedelta(days=1)).isoformat())
        ended = await put_cover(
            client,
            "C-2",
            valid_from=(TODAY - timedelta(days=30)).isoformat(),
            valid_to=(TODAY - timedelta(days=1)).isoformat(),
        )
        suspended = await put_cover(client, "C-3", status="suspended")
        assert [r.json()["in_force"] for r in (future, ended, suspended)] == [False, False, False]

    async def test_review_scope_may_record_and_read_scope_may_not(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-42")
        body = cover_body()
        by_review = await client.put("/v1/customers/C-42/cover", json=body, headers=auth(key_for("review")))
        by_reader = await client.put("/v1/customers/C-42/cover", json=body, headers=auth(key_for("read")))
        assert by_review.status_code == 201
        assert by_reader.status_code == 403

    async def test_unknown_customer_and_missing_cover_are_404(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-42")
        assert (await put_cover(client, "C-404")).status_code == 404
        assert (await client.get("/v1/customers/C-42/cover", headers=auth())).status_code == 404
        assert (await client.get("/v1/customers/C-404/cover/history", headers=auth())).status_code == 404


class TestInvalidCover:
    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"coverage_percentage": "0"}, "coverage_percentage"),
            ({"coverage_percentage": "100.01"}, "coverage_percentage"),
            ({"coverage_percentage": "90.125"}, "coverage_percentage"),
            ({"coverage_percentage": 90}, "coverage_percentage"),
            ({"amount": "100.001"}, "amount"),
            ({"amount": "-5.00"}, "amount"),
            ({"currency": "XXX"}, "currency"),
            ({"valid_from": "2026-02-30"}, "valid_from"),
            ({"status": "pending"}, "status"),
            ({"source": "csv"}, "source"),
            ({"insurer": "A\u202eB"}, "insurer"),
            ({"limit": "1"}, "limit"),
        ],
    )
    async def test_refuses_a_field_and_changes_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine, fields: dict[str, object], field: str
    ) -> None:
        await put_customer(client, "C-42")
        before = await table_counts(engine)
        response = await put_cover(client, **fields)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert any(error["field"].endswith(field) for error in response.json()["errors"]), response.json()
        assert await table_counts(engine) == before

    async def test_refuses_an_end_before_the_start(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-42")
        response = await put_cover(client, valid_from="2026-06-01", valid_to="2026-05-31")
        assert response.status_code == 422
        assert "valid_to" in response.text
