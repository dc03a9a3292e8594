"""The credit file and a decision taken at the same moment tell one truth: the same limit, exposure and
available credit, whether the customer is in good standing, blocked after an insolvency, stopped by overdue
invoices or capped by its group."""

from __future__ import annotations

import html
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth
from tests.console.console import sign_in
from tests.erp import credit_file, decide, manual_limit, put_customer, put_invoice


def figures_of_file(file: dict[str, Any]) -> tuple[str, str, str]:
    return file["limit"]["amount"], file["exposure"]["total"], file["available_credit"]


def figures_of_decision(decision: dict[str, Any]) -> tuple[str, str, str]:
    return decision["credit_limit"], decision["exposure"], decision["available_credit"]


async def insolvency(client: httpx.AsyncClient, registration_number: str = "12345670") -> None:
    body = {
        "data": [
            {
                "company": {"id": "NL-X-1", "countryCode": "NL", "registrationNumber": registration_number},
                "eventDate": "2026-11-20T08:23:37",
                "ruleCode": 6,
                "ruleName": "Insolvency",
                "newValue": "Insolvent",
            }
        ]
    }
    response = await client.post("/v1/providers/notifications", json=body, headers=auth())
    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 1


class TestTheCreditFileAgreesWithADecision:
    async def test_in_good_standing(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await decide(client, "1000.00", "SO-1")
        await put_invoice(client, "INV-1", "2500.00", due_in_days=20)
        file = await credit_file(client)
        decision = await decide(client, "100.00", "SO-2")
        assert decision["outcome"] == "accept"
        assert figures_of_file(file) == figures_of_decision(decision)
        assert file["risk_class"] == decision["risk_class"]

    async def test_blocked_after_a_providers_insolvency_notice(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client)
        await decide(client, "1000.00", "SO-1")
        # The manual limit is set after the latest decision: it is the limit in force when the notice comes.
        await put_customer(client, **manual_limit("20000.00"))
        before = await credit_file(client)
        assert (before["limit"]["source"], before["limit"]["amount"]) == ("manual", "20000.00")
        await insolvency(client)
        file = await credit_file(client)
        decision = await decide(client, "100.00", "SO-2")
        assert decision["outcome"] == "reject"
        assert figures_of_file(file) == figures_of_decision(decision)
        assert file["blocked"] is True
        assert (file["limit"]["source"], file["limit"]["amount"], file["available_credit"]) == (
            "blocked",
            "0.00",
            "0.00",
        )
        assert "CUSTOMER_BLOCKED" in [reason["code"] for reason in file["credit_reasons"]]
        # The report as creditgate knows it: the provider's insolvency, not the old class A.
        assert file["latest_report"]["risk_class"] == "insolvent"
        async with engine.connect() as connection:
            old, new = (
                await connection.execute(
                    text("SELECT old_limit_minor, new_limit_minor FROM credit_limit_history WHERE source != 'erp'")
                )
            ).one()
        assert (old, new) == (2000000, 0)  # the announced old limit is the manual one that was in force

    async def test_stopped_by_overdue_invoices(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("50000.00"))
        await put_invoice(client, "INV-1", "1500.00", due_in_days=-45)
        await put_invoice(client, "INV-2", "700.00", due_in_days=20)
        file = await credit_file(client)
        decision = await decide(client, "500.00", "SO-1")
        assert "OVERDUE_INVOICES" in [reason["code"] for reason in decision["reasons"]]
        assert figures_of_file(file) == figures_of_decision(decision)
        assert file["available_credit"] == "0.00"
        assert "OVERDUE_INVOICES" in [reason["code"] for reason in file["credit_reasons"]]

    async def test_capped_by_the_group(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "G-ROOT", limit_currency="EUR", group_limit="3000.00")
        await put_customer(client, "G-A", parent_id="G-ROOT", **manual_limit("5000.00"))
        await put_customer(client, "G-B", parent_id="G-ROOT", **manual_limit("5000.00"))
        await put_invoice(client, "INV-A", "2000.00", customer_id="G-A")
        file = await credit_file(client, "G-B")
        decision = await decide(client, "500.00", "SO-B1", customer_id="G-B")
        assert figures_of_file(file) == figures_of_decision(decision)
        assert file["available_credit"] == "1000.00"
        assert file["group"]["available_credit"] == "1000.00"

    async def test_the_console_credit_file_shows_the_same_truth(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await decide(client, "1000.00", "SO-1")
        await put_customer(client, **manual_limit("20000.00"))
        await insolvency(client)
        await sign_in(client)
        page = await client.get("/console/customers/C-42")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "none while blocked" in text
        assert "The customer is blocked for credit." in text
        assert "risk class Insolvent" in text
        assert "risk class A" not in text
