"""The lost-sales report on a seeded history, against totals computed here by hand from the decisions."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import auth, key_for, order_body
from tests.erp import manual_limit, put_customer, put_invoice

FIRST_ORDER_CAP = Decimal("5000.00")  # the default policy's new_customers.first_order_cap
LIMIT_CODES = {"EXCEEDS_AVAILABLE_CREDIT", "GROUP_LIMIT"}
OTHER_CAUSES = {"CUSTOMER_BLOCKED", "INSOLVENT", "OVERDUE_INVOICES", "HIGH_RISK_PREPAYMENT"}


async def _decide(client: httpx.AsyncClient, customer_id: str, order_id: str, amount: str) -> dict[str, Any]:
    body = order_body(amount, "12345670", order_id=order_id, customer_id=customer_id)
    response = await client.post("/v1/decisions", json=body, headers=auth())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _seed(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every decision taken, in order."""
    decisions = []
    await put_customer(client, "C-1", **manual_limit("1000.00"))
    decisions.append(await _decide(client, "C-1", "SO-1", "3000.00"))  # limit: 2,000.00 prepaid
    await put_invoice(client, "INV-1", "1000.00", customer_id="C-1", due_in_days=-10, order_id="SO-1")
    await put_customer(client, "C-2", **manual_limit("500.00"))
    decisions.append(await _decide(client, "C-2", "SO-3", "2000.00"))  # limit: 1,500.00 prepaid, never invoiced
    decisions.append(await _decide(client, "C-2", "SO-6", "2000.00"))
    decisions.append(await _decide(client, "C-2", "SO-6", "400.00"))  # decided again: only this one counts
    await put_customer(client, "C-3", credit_block={"reason": "fraud check"}, **manual_limit("1000.00"))
    decisions.append(await _decide(client, "C-3", "SO-4", "3000.00"))  # blocked: not the limit's doing
    await put_customer(client, "C-4", **manual_limit("1000.00"))
    await put_invoice(client, "INV-4", "1500.00", customer_id="C-4", due_in_days=-45)
    decisions.append(await _decide(client, "C-4", "SO-5", "3000.00"))  # overdue stop: not the limit's doing
    return decisions


def _expected(decisions: list[dict[str, Any]], what_if: Decimal, overdue: dict[str, Decimal]) -> dict[str, Any]:
    """The report's figures from the decisions' own answers, by the report's definition."""
    latest = {d["order_id"]: d for d in decisions}
    held = []
    for decision in latest.values():
        codes = {reason["code"] for reason in decision["reasons"]}
        if decision["outcome"] in ("prepayment", "reject") and codes & LIMIT_CODES and not codes & OTHER_CAUSES:
            held.append(decision)
    first_orders = set()
    seen: set[str] = set()
    for decision in decisions:
        if decision["customer_id"] not in seen:
            first_orders.add(decision["id"])
        if Decimal(decision["approved_credit_amount"]) > 0:
            seen.add(decision["customer_id"])
    on_credit = []
    for decision in held:
        limit = min(what_if, FIRST_ORDER_CAP) if decision["id"] in first_orders else what_if
        if Decimal(decision["amount"]) <= limit - Decimal(decision["exposure"]):
            on_credit.append(decision)
    return {
        "orders": sorted(d["order_id"] for d in held),
        "amount": sum(Decimal(d["amount"]) for d in held),
        "held_back": sum(Decimal(d["amount"]) - Decimal(d["approved_credit_amount"]) for d in held),
        "customers": sorted({d["customer_id"] for d in held}),
        "what_if_orders": len(on_credit),
        "what_if_amount": sum((Decimal(d["amount"]) for d in on_credit), Decimal(0)),
        "what_if_overdue": sum((overdue.get(d["order_id"], Decimal(0)) for d in on_credit), Decimal(0)),
    }


class TestLostSales:
    async def test_the_report_gives_the_hand_computed_figures(self, client: httpx.AsyncClient) -> None:
        decisions = await _seed(client)
        overdue = {"SO-1": Decimal("1000.00")}  # INV-1 for SO-1 fell due ten days ago, unpaid
        for what_if in (Decimal("2500.00"), Decimal("5000.00"), Decimal("0.00")):
            expected = _expected(decisions, what_if, overdue)
            response = await client.get(
                "/v1/lost-sales", params={"what_if_limit": str(what_if)}, headers=auth(key_for("read"))
            )
            assert response.status_code == 200, response.text
            report = response.json()
            assert sorted(order["order_id"] for order in report["orders"]) == expected["orders"]
            (month,) = report["months"]
            assert month["month"] == date.today().strftime("%Y-%m")
            assert Decimal(month["amount"]) == expected["amount"]
            assert Decimal(month["held_back"]) == expected["held_back"]
            assert month["customers"] == expected["customers"]
            assert month["orders"] == len(expected["orders"])
            what = report["what_if"]
            assert what["orders"] == expected["what_if_orders"], what_if
            assert Decimal(what["amount"]) == expected["what_if_amount"]
            assert Decimal(what["overdue_now"]) == expected["what_if_overdue"]
        fates = {order["order_id"]: order["fate"] for order in report["orders"]}
        assert fates == {"SO-1": "invoiced", "SO-3": "lost", "SO-6": "lost"}
        assert {o["order_id"]: o["amount"] for o in report["orders"]}["SO-6"] == "400.00"
        assert month["lost"] == 2
        assert [c["customer_id"] for c in report["customers"]] == ["C-1", "C-2"]  # most held back first

    async def test_the_csv_has_one_row_per_order(self, client: httpx.AsyncClient) -> None:
        await _seed(client)
        response = await client.get("/v1/lost-sales/export", headers=auth(key_for("read")))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert sorted(row["order_id"] for row in rows) == ["SO-1", "SO-3", "SO-6"]
        held = {row["order_id"]: row["held_back"] for row in rows}
        assert held == {"SO-1": "2000.00", "SO-3": "1500.00", "SO-6": "400.00"}

    async def test_refuses_bad_queries(self, client: httpx.AsyncClient) -> None:
        cases = [
            ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "query.date_to"),
            ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "query.date_to"),
            ({"what_if_limit": "-5"}, "query.what_if_limit"),
            ({"what_if_limit": "10.001", "currency": "EUR"}, "query.what_if_limit"),
        ]
        for params, field in cases:
            response = await client.get("/v1/lost-sales", params=params, headers=auth())
            assert response.status_code == 422, (params, response.text)
            assert field in [error["field"] for error in response.json()["errors"]]
        assert (await client.get("/v1/lost-sales", headers=auth(key_for("decide")))).status_code == 403

    async def test_the_console_shows_months_and_customers(self, client: httpx.AsyncClient) -> None:
        from tests.console.console import sign_in

        await _seed(client)
        await sign_in(client)
        page = await client.get("/console/lost-sales")
        assert page.status_code == 200
        assert date.today().strftime("%Y-%m") in page.text
        assert "C-1" in page.text
        assert "C-2" in page.text
        assert "C-3" not in page.text
        assert (await client.get("/console/lost-sales?date_from=soon")).status_code == 422
        export = await client.get("/console/lost-sales/export")
        assert export.status_code == 200
        assert "SO-1" in export.text
