"""Payment behaviour per group, for customers without a report, and replayed under a changed score table."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import auth, key_for, order_body
from tests.customers.test_behaviour_api import activate_behaviour_policy, behaviour, codes
from tests.erp import credit_file, put_customer, put_invoice
from tests.policy.behaviour_tables import behaviour_section, ranges


async def paid(client: httpx.AsyncClient, customer_id: str, number: int, *, due_days_ago: int, late: int) -> None:
    """An invoice of 1000.00 of `customer_id` due `due_days_ago`, paid in full `late` days after its due date."""
    invoice_id = f"INV-{number}"
    await put_invoice(client, invoice_id, "1000.00", customer_id=customer_id, due_in_days=-due_days_ago)
    paid_on = date.today() - timedelta(days=due_days_ago - late)
    body = {"id": f"P-{number}", "amount": "1000.00", "paid_on": str(paid_on)}
    response = await client.post(
        f"/v1/customers/{customer_id}/invoices/{invoice_id}/payments", json=body, headers=auth()
    )
    assert response.status_code == 201, response.text


async def ledger(client: httpx.AsyncClient, customer_id: str, late: int, count: int = 4) -> None:
    """`count` invoices due 80, 75, … days ago, each paid `late` days after (at most 60: no payment ahead)."""
    for number in range(count):
        await paid(client, customer_id, number, due_days_ago=80 - number * 5, late=late)


async def decide(client: httpx.AsyncClient, customer_id: str, order_id: str, **body: Any) -> dict[str, Any]:
    request = order_body(
        body.pop("amount", "1000.00"),
        body.pop("registration_number", "12345670"),
        order_id=order_id,
        customer_id=customer_id,
    )
    response = await client.post("/v1/decisions", json=request, headers=auth())
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


class TestGroupFigures:
    async def group(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "P-1", registration_number="12345670")
        await put_customer(client, "C-1", registration_number="12345670", parent_id="P-1")
        await put_customer(client, "C-2", registration_number="12345670", parent_id="P-1")
        await ledger(client, "C-1", late=0)
        await ledger(client, "C-2", late=60)  # the same invoice ids as C-1's: each customer's own

    async def test_the_group_block_holds_the_figures_over_every_members_ledger(self, client: httpx.AsyncClient) -> None:
        await self.group(client)
        body = await behaviour(client, "C-1")
        group = body["group"]
        assert (group["group_id"], group["members"]) == ("P-1", ["C-1", "C-2", "P-1"])
        assert body["figures"]["dbt_90_days"]["value"] == "0.0"
        # Equal amounts, 0 and 60 days late: the group's weighted days beyond terms are 30.
        assert group["figures"]["dbt_90_days"] == {
            "value": "30.0",
            "window_days": 90,
            "invoices": 8,
            "payments": 8,
            "decisions": 0,
        }
        assert group["paid_invoices"] == 8
        assert (await credit_file(client, "C-1"))["behaviour"] == body
        assert (await behaviour(client, "P-1"))["group"]["figures"] == group["figures"]

    async def test_a_customer_alone_has_no_group_block(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-9")
        await put_customer(client, "C-10", parent_id="nobody-stored")  # its parent's only stored child
        assert (await behaviour(client, "C-9"))["group"] is None
        assert (await behaviour(client, "C-10"))["group"] is None

    async def test_under_group_worse_of_the_groups_record_tightens_a_members_decision(
        self, client: httpx.AsyncClient
    ) -> None:
        await self.group(client)
        await activate_behaviour_policy(client, "behaviour-own")
        own = await decide(client, "C-1", "SO-1")
        assert "PAYMENT_BEHAVIOUR_DETERIORATED" not in codes(own)
        assert (await behaviour(client, "C-1"))["group"]["score"]["risk_class"] != "A"

        await activate_behaviour_policy(client, "behaviour-group", group="worse_of")
        grouped = await decide(client, "C-1", "SO-2")
        reason = next(r for r in grouped["reasons"] if r["code"] == "PAYMENT_BEHAVIOUR_DETERIORATED")
        assert reason["facts"]["own_class"] == "A"
        assert reason["facts"]["group"]["group_id"] == "P-1"
        assert grouped["risk_class"] == reason["facts"]["group"]["class"] != "A"
        detail = (await client.get(f"/v1/decisions/{grouped['id']}", headers=auth())).json()
        assert detail["inputs"]["behaviour"]["group"]["members"] == ["C-1", "C-2", "P-1"]


class TestWithoutReport:
    """Customers with no report (a small order, no registration number) are decided on their own record."""

    async def test_a_late_payer_without_a_report_is_referred_and_a_punctual_one_accepted(
        self, client: httpx.AsyncClient
    ) -> None:
        await activate_behaviour_policy(client, review_classes=["D", "E"])
        await put_customer(client, "LATE", registration_number="12345670")
        await put_customer(client, "PUNCTUAL", registration_number="12345670")
        await ledger(client, "LATE", late=60)
        await ledger(client, "PUNCTUAL", late=0)

        small = await decide(client, "LATE", "SO-1", amount="100.00")
        assert small["outcome"] == "review"
        assert {"SMALL_ORDER_NO_REPORT", "PAYMENT_BEHAVIOUR_DETERIORATED"} <= set(codes(small))
        assert small["report"]["source"] == "none"
        unregistered = await decide(client, "LATE", "SO-2", amount="400.00", registration_number=None)
        assert unregistered["outcome"] == "review"
        assert "PAYMENT_BEHAVIOUR_DETERIORATED" in codes(unregistered)

        punctual = await decide(client, "PUNCTUAL", "SO-3", amount="100.00")
        assert punctual["outcome"] == "accept"
        assert "PAYMENT_BEHAVIOUR_DETERIORATED" not in codes(punctual)


def points(section: dict[str, Any], figures: dict[str, Any]) -> int:
    """The score table read by hand: each figure's range holding its value, or `missing`."""
    total = 0
    for name, group in section["points"].items():
        value = figures.get(name, {}).get("value")
        if value is None:
            total += group.get("missing", 0)
            continue
        for band in group["ranges"]:
            low, high = band.get("at_least"), band.get("below")
            if (low is None or Decimal(value) >= Decimal(low)) and (high is None or Decimal(value) < Decimal(high)):
                total += band["points"]
                break
    return total


def classify(section: dict[str, Any], total: int) -> str:
    return next((c for c in "ABCD" if total >= section["classes"][c]), "E")


class TestReplayTransitions:
    async def test_a_changed_score_table_reports_the_transitions_it_causes(self, client: httpx.AsyncClient) -> None:
        # bureau_only: the behaviour class acts only through review_classes, so the old outcome is accept and
        # the new one is review exactly when the new table's class is a review class.
        await activate_behaviour_policy(client, combine="bureau_only", review_classes=[])
        lateness = {"C-0": 0, "C-1": 5, "C-2": 12, "C-3": 25, "C-4": 40, "C-5": 60}
        for customer_id, late in lateness.items():
            await put_customer(client, customer_id, registration_number="12345670")
            await ledger(client, customer_id, late=late)
        decisions = []
        for customer_id in lateness:
            for number in range(2):
                decisions.append(await decide(client, customer_id, f"SO-{customer_id}-{number}"))
        assert {d["outcome"] for d in decisions} == {"accept"}

        stricter = behaviour_section(combine="bureau_only", review_classes=["C", "D", "E"])
        stricter["points"]["dbt_90_days"] = {"ranges": ranges((None, "1", 25), ("1", "4", 10), ("4", None, 0))}
        stricter["classes"] = {"A": 90, "B": 75, "C": 55, "D": 35}
        document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
        document["version"] = "behaviour-stricter"
        document["behaviour"] = stricter
        response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
        assert response.status_code == 201, response.text

        expected: Counter[tuple[str, str]] = Counter()
        for decision in decisions:
            stored = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
            behaviour_class = classify(stricter, points(stricter, stored["inputs"]["behaviour"]["figures"]))
            new = "review" if behaviour_class in stricter["review_classes"] else decision["outcome"]
            expected[decision["outcome"], new] += 1
        assert expected["accept", "review"] > 0  # the new table moves some decisions, not all
        assert expected["accept", "accept"] > 0

        response = await client.post("/v1/policies/behaviour-stricter/simulate", json={}, headers=auth())
        assert response.status_code == 200, response.text
        result = response.json()
        reported = {(t["old_outcome"], t["new_outcome"]): t["count"] for t in result["transitions"]}
        assert reported == dict(expected)
        assert result["replayed"] == len(decisions)
        assert result["changed"] == expected["accept", "review"]
