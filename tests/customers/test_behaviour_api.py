"""Payment behaviour through the API: the read endpoint, and a decision tightened by the customer's own record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.policy.schema import PolicyDocumentError, load_policy_text
from app.settings import DEFAULT_POLICY_FILE
from tests.conftest import auth, key_for
from tests.erp import credit_file, decide, put_customer, put_invoice
from tests.policy.behaviour_tables import behaviour_section


async def activate_behaviour_policy(client: httpx.AsyncClient, version: str = "behaviour-1", **overrides: Any) -> None:
    document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
    document["version"] = version
    document["behaviour"] = behaviour_section(**overrides)
    response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
    assert response.status_code == 201, response.text
    response = await client.post(f"/v1/policies/{version}/activate", headers=auth(key_for("admin")))
    assert response.status_code == 200, response.text


async def paid_invoice(client: httpx.AsyncClient, number: int, *, due_days_ago: int, days_late: int) -> None:
    """An invoice of 1000.00 due `due_days_ago`, paid in full `days_late` days after its due date."""
    invoice_id = f"INV-{number}"
    await put_invoice(client, invoice_id, "1000.00", due_in_days=-due_days_ago)
    paid_on = date.today() - timedelta(days=due_days_ago) + timedelta(days=days_late)
    body = {"id": f"P-{number}", "amount": "1000.00", "paid_on": str(paid_on)}
    response = await client.post(f"/v1/customers/C-42/invoices/{invoice_id}/payments", json=body, headers=auth())
    assert response.status_code == 201, response.text


async def behaviour(client: httpx.AsyncClient, customer_id: str = "C-42") -> dict[str, Any]:
    response = await client.get(f"/v1/customers/{customer_id}/behaviour", headers=auth())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


class TestBehaviourEndpoint:
    async def test_figures_without_a_behaviour_section_have_no_score(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await paid_invoice(client, 1, due_days_ago=40, days_late=10)
        body = await behaviour(client)
        assert body["score"] is None
        assert body["paid_invoices"] == 1
        assert body["figures"]["dbt_90_days"] == {
            "value": "10.0",
            "window_days": 90,
            "invoices": 1,
            "payments": 1,
            "decisions": 0,
        }
        assert (await credit_file(client))["behaviour"] == body

    async def test_below_the_minimum_experience_there_is_no_score(self, client: httpx.AsyncClient) -> None:
        await activate_behaviour_policy(client)
        await put_customer(client)
        await paid_invoice(client, 1, due_days_ago=40, days_late=0)
        score = (await behaviour(client))["score"]
        assert score["points"] is None
        assert score["risk_class"] is None
        assert (score["paid_invoices"], score["minimum_paid_invoices"]) == (1, 3)

    async def test_an_unknown_customer_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/customers/nobody/behaviour", headers=auth())
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


class TestDecisionPath:
    async def behaviour_statements(self, client: httpx.AsyncClient, order_id: str) -> tuple[int, dict[str, Any]]:
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "LEFT OUTER JOIN payments" in statement:
                seen.append(statement)

        event.listen(Engine, "before_cursor_execute", record)
        try:
            decision = await decide(client, "1000.00", order_id)
        finally:
            event.remove(Engine, "before_cursor_execute", record)
        detail = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
        return len(seen), detail["inputs"]

    async def test_without_a_behaviour_section_a_decision_reads_no_behaviour(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await paid_invoice(client, 1, due_days_ago=40, days_late=10)
        statements, inputs = await self.behaviour_statements(client, "SO-1")
        assert statements == 0
        assert "behaviour" not in inputs

    async def test_with_one_a_decision_reads_it_in_one_statement(self, client: httpx.AsyncClient) -> None:
        await activate_behaviour_policy(client)
        await put_customer(client)
        await paid_invoice(client, 1, due_days_ago=40, days_late=10)
        statements, inputs = await self.behaviour_statements(client, "SO-1")
        assert statements == 1
        assert inputs["behaviour"]["paid_invoices"] == 1


class TestScenario:
    async def test_a_customer_paying_later_gets_a_worse_class_and_a_tighter_decision(
        self, client: httpx.AsyncClient
    ) -> None:
        """The bureau's report stays class A; the customer's own record moves the decision."""
        await activate_behaviour_policy(client)
        await put_customer(client)
        for number, due_days_ago in enumerate((60, 50, 40, 30), start=1):
            await paid_invoice(client, number, due_days_ago=due_days_ago, days_late=0)
        await decide(client, "1000.00", "SO-0")  # the first order on credit is capped: compare later ones
        punctual = await decide(client, "1000.00", "SO-1")
        assert punctual["risk_class"] == "A"
        assert "PAYMENT_BEHAVIOUR_DETERIORATED" not in codes(punctual)
        assert (await behaviour(client))["score"]["risk_class"] == "A"

        # Three months of paying later and later: 20, 30 and 35 days beyond terms.
        for number, (due_days_ago, days_late) in enumerate(((70, 20), (50, 30), (40, 35)), start=5):
            await paid_invoice(client, number, due_days_ago=due_days_ago, days_late=days_late)
        late = await decide(client, "1000.00", "SO-2")
        assert late["risk_class"] == "B"
        assert "PAYMENT_BEHAVIOUR_DETERIORATED" in codes(late)
        assert float(late["credit_limit"]) < float(punctual["credit_limit"])

        detail = (await client.get(f"/v1/decisions/{late['id']}", headers=auth())).json()
        assert detail["report_snapshot"]["risk_class"] == "A"
        reason = next(r for r in detail["reasons"] if r["code"] == "PAYMENT_BEHAVIOUR_DETERIORATED")
        assert reason["facts"]["bureau_class"] == "A"
        assert reason["facts"]["behaviour_class"] == "B"
        assert reason["facts"]["figures"]["dbt_90_days"] == "12.1"
        assert detail["inputs"]["behaviour"]["figures"]["dbt_90_days"]["payments"] == 7
        assert (await behaviour(client))["score"]["risk_class"] == "B"


class TestReplay:
    async def test_a_changed_score_table_replays_stored_decisions_from_their_figures(
        self, client: httpx.AsyncClient
    ) -> None:
        """The replay reads the figures the decision stored: payments recorded after it change nothing."""
        await activate_behaviour_policy(client)
        await put_customer(client)
        await decide(client, "1000.00", "SO-0")
        for number, (due_days_ago, days_late) in enumerate(((70, 20), (50, 30), (40, 35)), start=1):
            await paid_invoice(client, number, due_days_ago=due_days_ago, days_late=days_late)
        decision = await decide(client, "1000.00", "SO-1")
        assert decision["outcome"] == "accept"
        for number in range(10, 20):  # later punctual payments: not what SO-1 was decided on
            await paid_invoice(client, number, due_days_ago=20, days_late=0)

        document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
        document["version"] = "behaviour-2"
        document["behaviour"] = behaviour_section(review_classes=["B", "C", "D", "E"])
        response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
        assert response.status_code == 201, response.text
        response = await client.post("/v1/policies/behaviour-2/simulate", json={}, headers=auth(key_for("read")))
        result = response.json()
        changed = {item["order_id"]: item for item in result["changed_decisions"]["items"]}
        assert set(changed) == {"SO-1"}
        assert changed["SO-1"]["new"]["outcome"] == "review"
        assert "PAYMENT_BEHAVIOUR_DETERIORATED" in [r["code"] for r in changed["SO-1"]["new"]["reasons"]]


class TestPolicyUpload:
    async def test_an_overlapping_score_table_is_a_422_naming_the_range_and_nothing_is_stored(
        self, client: httpx.AsyncClient
    ) -> None:
        document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
        document["version"] = "bad-table"
        section = behaviour_section()
        section["points"]["late_share"] = {"ranges": [{"below": "0.5", "points": 5}, {"at_least": "0.2", "points": 0}]}
        document["behaviour"] = section
        response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        fields = [error["field"] for error in response.json()["errors"]]
        assert fields == ["behaviour.points.late_share.ranges.1.at_least"]
        assert (await client.get("/v1/policies/bad-table", headers=auth())).status_code == 404

    async def test_a_yaml_score_table_error_names_its_line(self) -> None:
        text = DEFAULT_POLICY_FILE.read_text() + (
            "behaviour:\n"
            "  points:\n"
            "    dbt_90_days:\n"
            "      ranges:\n"
            "        - {below: '10', points: 50}\n"
            "        - {at_least: '20', points: 0}\n"
            "  classes: {A: 40, B: 30, C: 20, D: 10}\n"
        )
        with pytest.raises(PolicyDocumentError) as caught:
            load_policy_text(text)
        error = caught.value.errors[0]
        assert error["field"] == "behaviour.points.dbt_90_days.ranges.1.at_least"
        assert error["line"] == len(text.splitlines()) - 1
