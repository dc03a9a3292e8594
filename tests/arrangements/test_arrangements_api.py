"""Payment arrangements through the API: recorded, judged against payments, and weighed by decisions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services import services_of
from tests.arrangements.conftest import Running
from tests.arrangements.helpers import activate_arrangements_policy, agreed_days_ago, create, pay, plan
from tests.conftest import auth, key_for
from tests.erp import credit_file, decide, put_customer, put_invoice


def codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


def reason(decision: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in decision["reasons"] if r["code"] == code)


async def overdue_customer(client: httpx.AsyncClient) -> None:
    """C-42 with 2000.00 overdue for 60 days: beyond the default stop's 30 days and 1000.00."""
    await put_customer(client)
    await put_invoice(client, "INV-1", "2000.00", due_in_days=-60)


async def audit_types(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT event_type FROM audit_events ORDER BY seq"))
        return [row[0] for row in rows]


class TestKeptArrangement:
    async def test_lets_through_an_order_the_overdue_stop_would_refuse(self, client: httpx.AsyncClient) -> None:
        await activate_arrangements_policy(client)
        await overdue_customer(client)
        stopped = await decide(client, "500.00", "SO-1")
        assert stopped["outcome"] == "prepayment"
        assert "OVERDUE_INVOICES" in codes(stopped)

        response = await create(client, plan((10, "1000.00"), (40, "1000.00")))
        assert response.status_code == 201, response.text
        arrangement = response.json()
        assert arrangement["status"] == "kept"
        assert (arrangement["total"], arrangement["currency"], arrangement["grace_days"]) == ("2000.00", "EUR", 3)
        assert arrangement["next_due_date"] == str(date.today() + timedelta(days=10))

        accepted = await decide(client, "500.00", "SO-2")
        assert accepted["outcome"] == "accept", accepted["reasons"]
        assert "OVERDUE_INVOICES" not in codes(accepted)
        facts = reason(accepted, "PAYMENT_ARRANGEMENT_KEPT")["facts"]
        assert facts["arrangement_ids"] == [arrangement["id"]]
        assert facts["stop_relieved"] is True
        assert (facts["arranged_overdue_amount"], facts["overdue_amount"]) == ("2000.00", "0.00")
        # Exposure still counts the arranged invoice in full: it is owed.
        assert accepted["exposure"] == "2000.00"
        detail = (await client.get(f"/v1/decisions/{accepted['id']}", headers=auth())).json()
        assert detail["inputs"]["arrangements"]["arrangements"][0]["status"] == "kept"

    async def test_other_overdue_invoices_still_stop(self, client: httpx.AsyncClient) -> None:
        await activate_arrangements_policy(client)
        await overdue_customer(client)
        await put_invoice(client, "INV-2", "1500.00", due_in_days=-45)
        assert (await create(client, plan((10, "2000.00"), kind="promise"))).status_code == 201
        decision = await decide(client, "500.00", "SO-1")
        assert decision["outcome"] == "prepayment"
        stop = reason(decision, "OVERDUE_INVOICES")["facts"]
        assert (stop["overdue_amount"], stop["overdue_days"]) == ("1500.00", 45)

    async def test_new_credit_is_capped_as_the_policy_says(self, client: httpx.AsyncClient) -> None:
        await activate_arrangements_policy(client, new_credit="cap", new_credit_cap="300.00")
        await overdue_customer(client)
        assert (await create(client, plan((10, "2000.00"), kind="promise"))).status_code == 201
        decision = await decide(client, "500.00", "SO-1")
        assert decision["outcome"] == "prepayment"
        assert (decision["approved_credit_amount"], decision["prepayment_amount"]) == ("300.00", "200.00")
        assert reason(decision, "PAYMENT_ARRANGEMENT_KEPT")["facts"]["new_credit_cap"] == "300.00"

    async def test_new_credit_can_be_prepayment_only(self, client: httpx.AsyncClient) -> None:
        await activate_arrangements_policy(client, new_credit="prepayment")
        await overdue_customer(client)
        assert (await create(client, plan((10, "2000.00"), kind="promise"))).status_code == 201
        decision = await decide(client, "500.00", "SO-1")
        assert (decision["outcome"], decision["prepayment_amount"]) == ("prepayment", "500.00")
        assert "PAYMENT_ARRANGEMENT_KEPT" in codes(decision)

    async def test_without_an_arrangements_section_the_stop_applies(self, client: httpx.AsyncClient) -> None:
        await overdue_customer(client)
        assert (await create(client, plan((10, "2000.00"), kind="promise"))).status_code == 201
        decision = await decide(client, "500.00", "SO-1")
        assert decision["outcome"] == "prepayment"
        assert "OVERDUE_INVOICES" in codes(decision)
        assert "PAYMENT_ARRANGEMENT_KEPT" not in codes(decision)

    async def test_paid_in_full_it_is_fulfilled(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await overdue_customer(client)
        arrangement = (await create(client, plan((5, "1000.00"), (30, "1000.00")))).json()
        await pay(client, "INV-1", "P-1", "2000.00", date.today())
        got = (await client.get(f"/v1/customers/C-42/arrangements/{arrangement['id']}", headers=auth())).json()
        assert (got["status"], got["paid"]) == ("fulfilled", "2000.00")
        assert (await audit_types(engine))[-1] == "arrangement.changed"


class TestBrokenArrangement:
    async def test_a_missed_instalment_breaks_it_and_sends_orders_to_review(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await activate_arrangements_policy(client, grace_days=3)
        await overdue_customer(client)
        arrangement = (await create(client, plan((1, "1000.00"), (30, "1000.00")))).json()
        # Agreed 20 days ago: the first instalment fell due 19 days ago, its grace ended 16 days ago.
        await agreed_days_ago(engine, arrangement["id"], 20)
        await pay(client, "INV-1", "P-1", "400.00", date.today() - timedelta(days=18))
        got = (await client.get(f"/v1/customers/C-42/arrangements/{arrangement['id']}", headers=auth())).json()
        assert got["status"] == "broken"
        assert got["missed_instalment"] == 1
        assert got["broken_on"] == str(date.today() - timedelta(days=19) + timedelta(days=4))
        assert "arrangement.changed" in await audit_types(engine)
        decision = await decide(client, "500.00", "SO-1")
        assert decision["outcome"] == "review"
        facts = reason(decision, "PAYMENT_ARRANGEMENT_BROKEN")["facts"]
        assert (facts["arrangement_ids"], facts["action"], facts["open_amount"]) == (
            [arrangement["id"]],
            "review",
            "1600.00",
        )

    async def test_paid_within_the_grace_it_is_kept(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await activate_arrangements_policy(client, grace_days=3)
        await overdue_customer(client)
        arrangement = (await create(client, plan((1, "1000.00"), (30, "1000.00")))).json()
        await agreed_days_ago(engine, arrangement["id"], 20)
        # Due 19 days ago; paid 17 days ago, two days into the grace.
        await pay(client, "INV-1", "P-1", "1000.00", date.today() - timedelta(days=17))
        got = (await client.get(f"/v1/customers/C-42/arrangements/{arrangement['id']}", headers=auth())).json()
        assert got["status"] == "kept"
        assert got["due_so_far"] == "1000.00"

    async def test_a_broken_arrangement_can_reject(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await activate_arrangements_policy(client, on_broken="reject")
        await overdue_customer(client)
        arrangement = (await create(client, plan((1, "2000.00"), kind="promise"))).json()
        await agreed_days_ago(engine, arrangement["id"], 10)
        decision = await decide(client, "100.00", "SO-1")
        assert decision["outcome"] == "reject"
        assert "PAYMENT_ARRANGEMENT_BROKEN" in codes(decision)

    async def test_the_monitor_pass_marks_it_broken(self, running: Running, engine: AsyncEngine) -> None:
        client = running.client
        await overdue_customer(client)
        arrangement = (await create(client, plan((1, "2000.00"), kind="promise"))).json()
        await agreed_days_ago(engine, arrangement["id"], 10)
        async with engine.connect() as connection:
            status = (await connection.execute(text("SELECT status FROM payment_arrangements"))).scalar_one()
        assert status == "kept"  # stored: nothing has judged it since
        await services_of(running.app).monitor.run_pass(budget=0)
        async with engine.connect() as connection:
            status = (await connection.execute(text("SELECT status FROM payment_arrangements"))).scalar_one()
        assert status == "broken"


class TestRecording:
    async def test_replays_under_the_same_idempotency_key(self, client: httpx.AsyncClient) -> None:
        await overdue_customer(client)
        headers = {**auth(), "Idempotency-Key": "arr-1"}
        body = plan((10, "2000.00"), kind="promise")
        first = await client.post("/v1/customers/C-42/arrangements", json=body, headers=headers)
        again = await client.post("/v1/customers/C-42/arrangements", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert first.json() == again.json()
        listed = (await client.get("/v1/customers/C-42/arrangements", headers=auth())).json()["arrangements"]
        assert [a["id"] for a in listed] == [first.json()["id"]]

    async def test_a_credit_manager_may_record_and_a_reader_may_not(self, client: httpx.AsyncClient) -> None:
        await overdue_customer(client)
        body = plan((10, "2000.00"), kind="promise")
        assert (await create(client, body, key=key_for("read"))).status_code == 403
        assert (await create(client, body, key=key_for("review"))).status_code == 201

    async def test_cancel_ends_it_once(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await activate_arrangements_policy(client)
        await overdue_customer(client)
        arrangement = (await create(client, plan((10, "2000.00"), kind="promise"))).json()
        path = f"/v1/customers/C-42/arrangements/{arrangement['id']}/cancel"
        response = await client.post(path, json={"reason": "customer withdrew"}, headers=auth())
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", "customer withdrew")
        assert (await client.post(path, json={"reason": "again"}, headers=auth())).status_code == 409
        assert "arrangement.cancelled" in await audit_types(engine)
        decision = await decide(client, "500.00", "SO-1")
        assert "OVERDUE_INVOICES" in codes(decision)
        # The invoice is free for a new arrangement.
        assert (await create(client, plan((10, "2000.00"), kind="promise"))).status_code == 201

    async def test_unknown_ones_are_404(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        assert (await client.get("/v1/customers/C-42/arrangements/nope", headers=auth())).status_code == 404
        assert (await client.get("/v1/customers/nobody/arrangements", headers=auth())).status_code == 404
        assert (await create(client, plan((1, "1.00")), customer_id="nobody")).status_code == 404


async def refused(client: httpx.AsyncClient, body: dict[str, Any], status: int) -> list[str]:
    response = await create(client, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = (await client.get("/v1/customers/C-42/arrangements", headers=auth())).json()["arrangements"]
    assert listed == []  # nothing stored
    return [error["field"] for error in response.json()["errors"]]


class TestEdges:
    @pytest.fixture(autouse=True)
    async def _ledger(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await put_invoice(client, "INV-1", "2000.00", due_in_days=-60)
        await put_invoice(client, "INV-2", "100.00", due_in_days=10, currency="USD")
        await put_customer(client, "C-7")
        await put_invoice(client, "INV-9", "50.00", customer_id="C-7")

    async def test_a_due_date_in_the_past(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((-1, "2000.00")), 422) == ["instalments[0].due_date"]

    async def test_due_dates_out_of_order(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((10, "1000.00"), (10, "1000.00")), 422) == ["instalments[1].due_date"]

    async def test_a_due_date_too_far_ahead(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((4000, "2000.00")), 422) == ["instalments[0].due_date"]

    async def test_a_date_not_in_the_calendar(self, client: httpx.AsyncClient) -> None:
        body = plan((10, "2000.00"))
        body["instalments"][0]["due_date"] = "2027-02-30"
        assert await refused(client, body, 422) == ["instalments[0].due_date"]

    @pytest.mark.parametrize("amount", ["0.00", "-5.00", "1e3", "abc", "99999999999999999999.00"])
    async def test_bad_amounts(self, client: httpx.AsyncClient, amount: str) -> None:
        assert await refused(client, plan((10, amount)), 422) == ["instalments[0].amount"]

    async def test_finer_than_the_currency(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((10, "1999.995"), (20, "0.005")), 409) == [
            "instalments[0].amount",
            "instalments[1].amount",
        ]

    async def test_instalments_that_do_not_add_up(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((10, "1000.00"), (20, "999.99")), 409) == ["instalments"]

    async def test_a_duplicate_invoice(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((10, "4000.00"), invoice_ids=("INV-1", "INV-1")), 422) == ["invoice_ids[1]"]

    async def test_an_unknown_invoice(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((10, "2000.00"), invoice_ids=("INV-1", "NOPE")), 409) == ["invoice_ids[1]"]

    async def test_another_customers_invoice(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((10, "50.00"), invoice_ids=("INV-9",)), 409) == ["invoice_ids[0]"]

    async def test_invoices_in_two_currencies(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((10, "2100.00"), invoice_ids=("INV-1", "INV-2")), 409) == ["invoice_ids[1]"]

    async def test_an_invoice_under_an_open_arrangement(self, client: httpx.AsyncClient) -> None:
        assert (await create(client, plan((10, "2000.00")))).status_code == 201
        response = await create(client, plan((10, "2000.00")))
        assert response.status_code == 409
        assert [e["field"] for e in response.json()["errors"]] == ["invoice_ids[0]"]

    async def test_a_promise_has_one_instalment(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, plan((10, "1000.00"), (20, "1000.00"), kind="promise"), 422) == ["instalments"]

    async def test_huge_lists(self, client: httpx.AsyncClient) -> None:
        many_invoices = plan((10, "2000.00"), invoice_ids=tuple(f"INV-{n}" for n in range(101)))
        assert await refused(client, many_invoices, 422) == ["invoice_ids"]
        many_instalments = plan(*((day, "1.00") for day in range(1, 62)))
        assert await refused(client, many_instalments, 422) == ["instalments"]

    async def test_unknown_fields_and_empty_lists(self, client: httpx.AsyncClient) -> None:
        assert await refused(client, {**plan((10, "2000.00")), "extra": 1}, 422) == ["extra"]
        assert await refused(client, {**plan((10, "2000.00")), "invoice_ids": []}, 422) == ["invoice_ids"]
        assert await refused(client, {**plan((10, "2000.00")), "kind": "hope"}, 422) == ["kind"]


class TestCreditFile:
    async def test_shows_the_open_arrangement_and_what_a_decision_would_weigh(self, client: httpx.AsyncClient) -> None:
        await activate_arrangements_policy(client)
        await overdue_customer(client)
        before = await credit_file(client)
        assert before["arrangements"] == []
        assert "OVERDUE_INVOICES" in [r["code"] for r in before["credit_reasons"]]
        arrangement = (await create(client, plan((10, "2000.00"), kind="promise"))).json()
        after = await credit_file(client)
        assert [(a["id"], a["status"]) for a in after["arrangements"]] == [(arrangement["id"], "kept")]
        reasons = [r["code"] for r in after["credit_reasons"]]
        assert "PAYMENT_ARRANGEMENT_KEPT" in reasons
        assert "OVERDUE_INVOICES" not in reasons


class TestMonitor:
    async def overdue_flag(self, engine: AsyncEngine) -> bool:
        async with engine.connect() as connection:
            query = text("SELECT overdue_beyond_tolerance FROM customer_credit_states WHERE customer_id = 'C-42'")
            return bool((await connection.execute(query)).scalar_one())

    async def test_applies_the_decisions_stop_rule_with_kept_arrangements(
        self, running: Running, engine: AsyncEngine
    ) -> None:
        client, monitor = running.client, services_of(running.app).monitor
        await activate_arrangements_policy(running.client)
        await overdue_customer(client)
        await monitor.run_pass(budget=0)
        assert await self.overdue_flag(engine) is True
        arrangement = (await create(client, plan((10, "2000.00"), kind="promise"))).json()
        await monitor.run_pass(budget=0)
        assert await self.overdue_flag(engine) is False
        path = f"/v1/customers/C-42/arrangements/{arrangement['id']}/cancel"
        assert (await client.post(path, json={"reason": "withdrawn"}, headers=auth())).status_code == 200
        await monitor.run_pass(budget=0)
        assert await self.overdue_flag(engine) is True


class TestReplay:
    async def test_replays_the_arrangements_the_decision_weighed(self, client: httpx.AsyncClient) -> None:
        await activate_arrangements_policy(client, version="arrangements-1")
        await overdue_customer(client)
        assert (await create(client, plan((10, "2000.00"), kind="promise"))).status_code == 201
        decided = await decide(client, "500.00", "SO-1")
        assert decided["outcome"] == "accept"
        # A candidate under which a customer keeping an arrangement prepays new orders.
        document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
        document["version"] = "arrangements-prepaid"
        document["arrangements"]["new_credit"] = "prepayment"
        response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
        assert response.status_code == 201, response.text
        # The arrangement is cancelled meanwhile: replay still weighs it as the decision did.
        arrangement_id = reason(decided, "PAYMENT_ARRANGEMENT_KEPT")["facts"]["arrangement_ids"][0]
        cancel = f"/v1/customers/C-42/arrangements/{arrangement_id}/cancel"
        assert (await client.post(cancel, json={"reason": "withdrawn"}, headers=auth())).status_code == 200
        for version, outcome in (("arrangements-1", "accept"), ("arrangements-prepaid", "prepayment")):
            result = await client.post(f"/v1/policies/{version}/simulate", json={}, headers=auth(key_for("read")))
            assert result.status_code == 200, result.text
            transitions = {(t["old_outcome"], t["new_outcome"]): t["count"] for t in result.json()["transitions"]}
            assert transitions == {("accept", outcome): 1}, transitions
