"""Insured and uninsured exposure: in the decision's facts, the credit file and the portfolio, net of VAT where
the cover excludes it."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, order_body, table_counts
from tests.erp import credit_file, put_customer, put_invoice
from tests.insurance.helpers import put_cover


async def put_invoice_with_vat(
    client: httpx.AsyncClient, invoice_id: str, amount: str, vat: str, customer_id: str = "C-42"
) -> httpx.Response:
    body = {
        "currency": "EUR",
        "amount": amount,
        "open_amount": amount,
        "issue_date": "2026-11-01",
        "due_date": "2099-12-01",
        "vat_amount": vat,
    }
    return await client.put(f"/v1/customers/{customer_id}/invoices/{invoice_id}", json=body, headers=auth())


async def decide_with_vat(client: httpx.AsyncClient, amount: str, vat: str, order_id: str) -> httpx.Response:
    body = order_body(amount, order_id=order_id)
    body["order"]["vat_amount"] = vat
    return await client.post("/v1/decisions", json=body, headers=auth())


async def covered_customer(client: httpx.AsyncClient) -> dict[str, object]:
    """C-42: a cover of 10,000.00 at 90% net of VAT; 6,050.00 (1,050.00 VAT) and 2,000.00 invoiced, and an
    order of 1,210.00 (210.00 VAT) on credit: exposure 9,260.00, of it 1,260.00 VAT."""
    await put_customer(client, "C-42")
    assert (await put_cover(client, amount="10000.00", coverage_percentage="90", excludes_vat=True)).status_code == 201
    decision = await decide_with_vat(client, "1210.00", "210.00", "SO-1")  # first: below the first-order cap
    assert decision.status_code == 201, decision.text
    assert decision.json()["outcome"] == "accept"
    assert (await put_invoice_with_vat(client, "I-1", "6050.00", "1050.00")).status_code == 201
    await put_invoice(client, "I-2", "2000.00")
    return decision.json()  # type: ignore[no-any-return]


class TestExposureSplit:
    async def test_the_credit_file_splits_exposure_under_the_cover(self, client: httpx.AsyncClient) -> None:
        await covered_customer(client)
        insurance = (await credit_file(client))["insurance"]
        assert insurance["vat"] == "1260.00"
        assert insurance["insured_exposure"] == "7200.00"  # (9,260 − 1,260 VAT) × 90%
        assert insurance["uninsured_exposure"] == "2060.00"
        assert insurance["cover"]["in_force"] is True

    async def test_the_decision_s_facts_carry_the_split_before_the_order(self, client: httpx.AsyncClient) -> None:
        decision = await covered_customer(client)
        second = (await decide_with_vat(client, "100.00", "0.00", "SO-2")).json()
        facts = {reason["code"]: reason["facts"] for reason in second["reasons"]}["INSURED_EXPOSURE"]
        assert (facts["insured_exposure"], facts["uninsured_exposure"]) == ("7200.00", "2060.00")
        assert "INSURED_EXPOSURE" in {reason["code"] for reason in decision["reasons"]}
        detail = (await client.get(f"/v1/decisions/{second['id']}", headers=auth())).json()
        assert detail["inputs"]["cover"]["coverage"] == "0.9"
        assert detail["inputs"]["exposure"]["vat"] == "1260.00"

    async def test_the_portfolio_s_insured_and_uninsured_exposure_add_up_to_the_total(
        self, client: httpx.AsyncClient
    ) -> None:
        await covered_customer(client)
        await put_customer(client, "C-7")
        await put_invoice(client, "I-7", "500.00", customer_id="C-7")
        portfolio = (await client.get("/v1/portfolio", headers=auth())).json()
        assert portfolio["total_exposure"] == "9760.00"
        assert (portfolio["insured_exposure"], portfolio["uninsured_exposure"]) == ("7200.00", "2560.00")
        assert Decimal(portfolio["insured_exposure"]) + Decimal(portfolio["uninsured_exposure"]) == Decimal(
            portfolio["total_exposure"]
        )

    async def test_a_cover_not_in_force_insures_nothing(self, client: httpx.AsyncClient) -> None:
        await covered_customer(client)
        await put_cover(client, amount="10000.00", coverage_percentage="90", excludes_vat=True, status="suspended")
        insurance = (await credit_file(client))["insurance"]
        assert (insurance["insured_exposure"], insurance["uninsured_exposure"]) == ("0.00", "9260.00")

    async def test_the_invoiced_event_carries_the_order_s_vat_to_the_invoice(self, client: httpx.AsyncClient) -> None:
        await covered_customer(client)
        event = await client.post(
            "/v1/orders/SO-1/events", json={"type": "invoiced", "invoice_id": "I-3"}, headers=auth()
        )
        assert event.status_code == 200, event.text
        invoice = (await client.get("/v1/customers/C-42/invoices", headers=auth())).json()["items"]
        assert {item["invoice_id"]: item["vat_amount"] for item in invoice}["I-3"] == "210.00"
        assert (await credit_file(client))["insurance"]["vat"] == "1260.00"


class TestVatValidation:
    @pytest.mark.parametrize("vat", ["6050.01", "10.001", "-1.00", 10])
    async def test_an_invoice_s_vat_must_fit_its_amount(
        self, client: httpx.AsyncClient, engine: AsyncEngine, vat: object
    ) -> None:
        await put_customer(client, "C-42")
        before = await table_counts(engine)
        response = await put_invoice_with_vat(client, "I-1", "6050.00", vat)  # type: ignore[arg-type]
        assert response.status_code == 422
        assert [error["field"] for error in response.json()["errors"]] == ["vat_amount"]
        assert await table_counts(engine) == before

    async def test_an_order_s_vat_must_fit_its_amount(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        before = await table_counts(engine)
        response = await decide_with_vat(client, "100.00", "100.01", "SO-1")
        assert response.status_code == 422
        assert [error["field"] for error in response.json()["errors"]] == ["order.vat_amount"]
        assert await table_counts(engine) == before
