"""The opportunities pass: good payers held back by their limit get a proposal a person approves."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from tests.conftest import auth, key_for, order_body
from tests.erp import manual_limit, put_customer
from tests.limits.helpers import REVIEWER, audit_events, chain_intact, review


async def _paid_on_time(client: httpx.AsyncClient, customer_id: str, count: int = 3) -> None:
    """`count` invoices of 1,000.00 that fell due 30 days ago and were paid that day."""
    due = date.today() - timedelta(days=30)
    for number in range(count):
        invoice = f"INV-{customer_id}-{number}"
        body = {
            "currency": "EUR",
            "amount": "1000.00",
            "open_amount": "1000.00",
            "issue_date": str(due - timedelta(days=30)),
            "due_date": str(due),
        }
        response = await client.put(f"/v1/customers/{customer_id}/invoices/{invoice}", json=body, headers=auth())
        assert response.status_code == 201, response.text
        payment = {"id": f"P-{invoice}", "amount": "1000.00", "paid_on": str(due)}
        response = await client.post(
            f"/v1/customers/{customer_id}/invoices/{invoice}/payments", json=payment, headers=auth()
        )
        assert response.status_code == 201, response.text


async def _decide(
    client: httpx.AsyncClient, customer_id: str, order_id: str, amount: str, number: str
) -> dict[str, Any]:
    body = order_body(amount, number, order_id=order_id, customer_id=customer_id)
    response = await client.post("/v1/decisions", json=body, headers=auth())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _run(client: httpx.AsyncClient, **query: int) -> dict[str, Any]:
    response = await client.post("/v1/opportunities", params=query, headers=auth(REVIEWER))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _history(client: httpx.AsyncClient, customer_id: str) -> list[tuple[str, str | None, str | None]]:
    items = (await client.get(f"/v1/customers/{customer_id}/limit-history", headers=auth())).json()["items"]
    return [(item["source"], item["old_limit"], item["new_limit"]) for item in reversed(items)]


class TestProposals:
    async def test_a_good_payer_held_back_is_proposed_approved_and_accepted(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-GOOD", registration_number="12345670", **manual_limit("1000.00"))
        await _paid_on_time(client, "C-GOOD")
        held = await _decide(client, "C-GOOD", "SO-1", "3000.00", "12345670")
        assert held["outcome"] == "prepayment"
        assert "EXCEEDS_AVAILABLE_CREDIT" in [reason["code"] for reason in held["reasons"]]

        result = await _run(client)
        assert result["held_back"] == 1
        (proposal,) = result["proposed"]
        # The lowest of: the bureau's recommendation (class A: 50,000 or more), 2 × the peak monthly exposure the
        # orders asked for (0.00 owed + 3,000.00 ordered), and the cap of 100,000.00.
        assert (proposal["customer_id"], proposal["amount"], proposal["currency"]) == ("C-GOOD", "6000.00", "EUR")
        assert proposal["requester_role"] == "opportunities"
        assert proposal["status"] == "pending"
        figures = proposal["proposal"]
        assert figures["rule"] == "exposure_multiple"
        assert figures["held_back_orders"] == ["SO-1"]
        assert figures["held_back_amount"] == "3000.00"
        assert figures["current_limit"] == "1000.00"
        assert list(figures["peak_monthly_exposure"].values()) == ["3000.00"]
        assert figures["candidates"]["exposure_multiple"] == "6000.00"
        assert figures["candidates"]["cap"] == "100000.00"
        assert float(figures["candidates"]["share_of_recommended"]) >= 50000
        assert figures["payment_record"]["paid_invoices"] == 3

        # A second pass proposes nothing more while this one is open.
        assert [s["reason"] for s in (await _run(client))["skipped"]] == ["pending_request"]

        approved = await review(client, proposal["id"], key=REVIEWER)
        assert approved.json()["status"] == "approved"
        assert (await _decide(client, "C-GOOD", "SO-2", "3000.00", "12345670"))["outcome"] == "accept"
        assert await _history(client, "C-GOOD") == [("manual", None, "1000.00"), ("request", "1000.00", "6000.00")]
        # Approved since the held-back order: no new proposal until the limit holds an order back again.
        assert [s["reason"] for s in (await _run(client))["skipped"]] == ["limit_changed_since"]
        created = await audit_events(engine, "limit_request.created")
        assert created[0][0] == "opportunities"
        assert created[0][1]["proposal"]["rule"] == "exposure_multiple"
        assert await chain_intact(client)

    async def test_a_customer_whose_report_worsened_gets_none(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-WORSE", registration_number="12345670", **manual_limit("1000.00"))
        await _paid_on_time(client, "C-WORSE")
        assert (await _decide(client, "C-WORSE", "SO-1", "3000.00", "12345670"))["outcome"] == "prepayment"
        # The company's rating since: class C (the simulated provider reads the last digit).
        await put_customer(client, "C-WORSE", registration_number="12345674", **manual_limit("1000.00"))
        await _decide(client, "C-WORSE", "SO-2", "300.00", "12345674")
        result = await _run(client)
        assert result["proposed"] == []
        (skipped,) = result["skipped"]
        assert skipped["reason"] == "report_worsened"
        assert (skipped["figures"]["risk_class_then"], skipped["figures"]["risk_class_now"]) == ("A", "C")

    async def test_a_poor_or_thin_payment_record_gets_none(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-THIN", registration_number="12345670", **manual_limit("1000.00"))
        await _paid_on_time(client, "C-THIN", count=2)
        await _decide(client, "C-THIN", "SO-1", "3000.00", "12345670")
        await put_customer(client, "C-LATE", registration_number="12345670", **manual_limit("1000.00"))
        await _paid_on_time(client, "C-LATE")
        overdue = {
            "currency": "EUR",
            "amount": "10.00",
            "open_amount": "10.00",
            "issue_date": str(date.today() - timedelta(days=40)),
            "due_date": str(date.today() - timedelta(days=5)),
        }
        response = await client.put("/v1/customers/C-LATE/invoices/LATE-1", json=overdue, headers=auth())
        assert response.status_code == 201
        await _decide(client, "C-LATE", "SO-2", "3000.00", "12345670")
        result = await _run(client)
        assert result["proposed"] == []
        reasons = {item["customer_id"]: item["reason"] for item in result["skipped"]}
        assert reasons == {"C-THIN": "payment_record", "C-LATE": "overdue_invoices"}

    async def test_orders_outside_the_window_do_not_count(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-GOOD", registration_number="12345670", **manual_limit("1000.00"))
        await _paid_on_time(client, "C-GOOD")
        await _decide(client, "C-GOOD", "SO-1", "3000.00", "12345670")
        assert (await _run(client))["held_back"] == 1
        response = await client.post("/v1/opportunities", params={"lookback_days": 0}, headers=auth(REVIEWER))
        assert response.status_code == 422
        assert (await client.post("/v1/opportunities", headers=auth(key_for("sales")))).status_code == 403


class TestCommand:
    async def test_the_cron_command_runs_the_same_pass(
        self, client: httpx.AsyncClient, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await put_customer(client, "C-GOOD", registration_number="12345670", **manual_limit("1000.00"))
        await _paid_on_time(client, "C-GOOD")
        await _decide(client, "C-GOOD", "SO-1", "3000.00", "12345670")
        monkeypatch.setenv("CREDITGATE_DATABASE_URL", database_url)
        get_settings.cache_clear()
        try:
            result = await asyncio.to_thread(CliRunner().invoke, cli, ["opportunities", "--days", "30"])
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        assert "1 customers held back by their limit in 30 days; 1 proposed, 0 passed over" in result.output
        listed = (await client.get("/v1/limit-requests?customer_id=C-GOOD", headers=auth())).json()["items"]
        assert [(item["amount"], item["requester_role"]) for item in listed] == [("6000.00", "opportunities")]
