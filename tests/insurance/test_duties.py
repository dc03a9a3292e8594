"""The insurance policy's duties: the stop date past the maximum extension period, and the queue of overdue
invoices to report to the insurer by their deadline."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.policy.evaluator import evaluate
from app.policy.facts import CustomerFacts, ExposureFacts, OrderFacts, ReportFacts
from app.policy.schema import load_policy_file, parse_policy
from app.settings import DEFAULT_POLICY_FILE
from tests.conftest import auth, key_for, order_body
from tests.erp import credit_file, put_customer, put_invoice
from tests.insurance.helpers import TODAY, activate_insurance_policy, audit_events, put_cover

REPORTING = {"reporting": {"after_days": 30, "deadline_days": 60}}


def reasons(decision: dict[str, object]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]  # type: ignore[attr-defined, index]


class TestStopDate:
    @pytest.mark.parametrize(("days", "stopped"), [(44, False), (45, True), (46, True), (0, False)])
    def test_credit_stops_from_the_stop_date(self, days: int, stopped: bool) -> None:
        document = load_policy_file(DEFAULT_POLICY_FILE).model_dump(mode="json")
        document["stop"]["overdue_days_tolerance"] = 3650
        document["insurance"] = {"retention": {"regular": "5000.00"}, "max_extension_days": 45}
        policy = parse_policy(document)
        exposure = ExposureFacts(
            open_receivables=Decimal("10.00"),
            overdue_amount=Decimal("10.00") if days else Decimal(0),
            oldest_overdue_days=days,
        )
        report = ReportFacts(source="fresh", risk_class="A", recommended_limit=Decimal("40000"))
        result = evaluate(
            OrderFacts("SO-1", Decimal("100.00"), "EUR"), CustomerFacts("C-1"), report, exposure, policy, {}
        )
        assert ("INSURANCE_EXTENSION_EXCEEDED" in [r.code for r in result.reasons]) is stopped
        assert (result.approved_credit_amount == 0) is stopped

    async def test_an_order_past_the_stop_date_is_refused_credit_with_the_reason(
        self, client: httpx.AsyncClient
    ) -> None:
        await activate_insurance_policy(client, max_extension_days=45)
        await put_customer(client, "C-42")
        await put_cover(client, amount="20000.00")
        await put_invoice(client, "I-1", "100.00", due_in_days=-46)
        decision = (await client.post("/v1/decisions", json=order_body("500.00"), headers=auth())).json()
        assert (decision["outcome"], decision["approved_credit_amount"]) == ("prepayment", "0.00")
        assert "INSURANCE_EXTENSION_EXCEEDED" in reasons(decision)
        insurance = (await credit_file(client))["insurance"]
        assert insurance["stop_date"] == (TODAY - timedelta(days=1)).isoformat()
        assert insurance["credit_stopped"] is True

    async def test_before_the_stop_date_the_file_shows_it_and_credit_goes_on(self, client: httpx.AsyncClient) -> None:
        await activate_insurance_policy(client, max_extension_days=45)
        await put_customer(client, "C-42")
        await put_cover(client, amount="20000.00")
        await put_invoice(client, "I-1", "100.00", due_in_days=-10)
        decision = (await client.post("/v1/decisions", json=order_body("500.00"), headers=auth())).json()
        assert decision["outcome"] == "accept"
        insurance = (await credit_file(client))["insurance"]
        assert (insurance["stop_date"], insurance["credit_stopped"]) == (
            (TODAY + timedelta(days=35)).isoformat(),
            False,
        )


async def queue(client: httpx.AsyncClient, state: str = "to_report") -> list[dict[str, object]]:
    response = await client.get("/v1/insurance/overdue-reports", params={"state": state}, headers=auth(key_for("read")))
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def report(
    client: httpx.AsyncClient, invoice_id: str, customer_id: str = "C-42", **body: object
) -> httpx.Response:
    return await client.post(
        f"/v1/insurance/overdue-reports/{customer_id}/{invoice_id}", json=body, headers=auth(key_for("review"))
    )


class TestReportingQueue:
    async def test_an_overdue_invoice_enters_the_queue_on_the_day_it_qualifies(self, client: httpx.AsyncClient) -> None:
        await activate_insurance_policy(client, **REPORTING)
        await put_customer(client, "C-42")
        await put_cover(client)
        await put_customer(client, "C-9")  # no cover: no duty
        await put_invoice(client, "I-29", "100.00", due_in_days=-29)
        await put_invoice(client, "I-30", "200.00", due_in_days=-30)
        await put_invoice(client, "I-75", "300.00", due_in_days=-75)
        await put_invoice(client, "I-PAID", "50.00", open_amount="0.00", due_in_days=-40)
        await put_invoice(client, "I-9", "400.00", customer_id="C-9", due_in_days=-90)
        items = await queue(client)
        assert [(item["invoice_id"], item["late"]) for item in items] == [("I-75", True), ("I-30", False)]
        assert items[1]["deadline"] == (TODAY + timedelta(days=30)).isoformat()
        assert items[1]["overdue_days"] == 30

    async def test_reporting_moves_an_invoice_to_reported_once_and_is_audited(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await activate_insurance_policy(client, **REPORTING)
        await put_customer(client, "C-42")
        await put_cover(client)
        await put_invoice(client, "I-1", "100.00", due_in_days=-31)
        await put_invoice(client, "I-2", "100.00", due_in_days=-5)
        done = await report(client, "I-1", reference="NOT-77")
        again = await report(client, "I-1")
        early = await report(client, "I-2")
        unknown = await report(client, "I-404")
        future = await report(client, "I-1", reported_on=(TODAY + timedelta(days=1)).isoformat())
        by_reader = await client.post("/v1/insurance/overdue-reports/C-42/I-1", json={}, headers=auth(key_for("read")))
        assert done.status_code == 201, done.text
        assert (done.json()["state"], done.json()["reported_on"], done.json()["late"]) == (
            "reported",
            TODAY.isoformat(),
            False,
        )
        assert again.status_code == 409
        assert again.json()["code"] == "already_reported"
        assert (early.status_code, early.json()["code"]) == (409, "not_reportable")
        assert unknown.status_code == 404
        assert future.status_code in (409, 422)
        assert by_reader.status_code == 403
        assert await queue(client) == []
        assert [item["reference"] for item in await queue(client, "reported")] == ["NOT-77"]
        events = await audit_events(engine, "overdue.reported")
        assert [(e["invoice_id"], e["reference"]) for e in events] == [("I-1", "NOT-77")]

    async def test_the_queue_exports_as_csv(self, client: httpx.AsyncClient) -> None:
        await activate_insurance_policy(client, **REPORTING)
        await put_customer(client, "C-42")
        await put_cover(client)
        await put_invoice(client, "I-1", "100.00", due_in_days=-31)
        response = await client.get("/v1/insurance/overdue-reports/export", params={"state": "all"}, headers=auth())
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [(row["invoice_id"], row["state"], row["open_amount"]) for row in rows] == [
            ("I-1", "to_report", "100.00")
        ]

    async def test_without_the_policy_s_reporting_duty_the_queue_is_empty(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-42")
        await put_cover(client)
        await put_invoice(client, "I-1", "100.00", due_in_days=-300)
        assert await queue(client) == []
        assert (await report(client, "I-1")).status_code == 409
