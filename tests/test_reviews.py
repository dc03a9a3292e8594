"""Manual review: the queue, a recorded review with reviewer and reason, four eyes, and the reservation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import key_id
from tests.conftest import ALL_KEY, auth, count_rows, key_for, order_body

REVIEWER = key_for("review")
SECOND_REVIEWER = ALL_KEY  # another key that also has the review scope
REQUESTER = key_for("decide")  # the checkout's key: it asks for decisions and reviews none


async def decide(
    client: httpx.AsyncClient, amount: str, registration_number: str, order_id: str, key: str = REQUESTER
) -> dict[str, Any]:
    body = order_body(amount, registration_number, order_id=order_id, customer_id=f"C-{order_id}")
    response = await client.post("/v1/decisions", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    return response.json()


async def review(client: httpx.AsyncClient, decision_id: str, key: str = REVIEWER, **body: Any) -> httpx.Response:
    body.setdefault("reason", "Checked the trade references by phone.")
    return await client.post(f"/v1/decisions/{decision_id}/review", json=body, headers=auth(key))


async def queue(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/reviews", headers=auth(REVIEWER))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def reservation(client: httpx.AsyncClient, order_id: str) -> httpx.Response:
    return await client.get(f"/v1/orders/{order_id}/reservation", headers=auth())


class TestQueue:
    async def test_shows_open_cases_oldest_first_with_their_facts(self, client: httpx.AsyncClient) -> None:
        first = await decide(client, "1000.00", "00000000", "SO-NF")  # company not found: review
        await decide(client, "1250.00", "12345670", "SO-OK")  # accept: not a case
        second = await decide(client, "60000.00", "12345671", "SO-BIG")  # above the review threshold
        cases = await queue(client)
        assert [case["decision"]["id"] for case in cases] == [first["id"], second["id"]]
        assert cases[0]["awaiting"] == "first_review"
        assert cases[0]["decision"]["reasons"][0]["code"] == "COMPANY_NOT_FOUND"
        assert cases[0]["reviews"] == []

    async def test_needs_the_review_scope(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/v1/reviews", headers=auth(key_for("read")))).status_code == 403
        assert (await client.get("/v1/reviews")).status_code == 401


class TestReviewing:
    async def test_records_reviewer_and_reason_and_settles_the_case(self, client: httpx.AsyncClient) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-1")
        response = await review(client, case["id"], outcome="accept")
        assert response.status_code == 201, response.text
        recorded = response.json()
        assert recorded["reviewer"] == key_id(REVIEWER)  # the reviewer is the key that sent the review
        assert recorded["reason"] == "Checked the trade references by phone."
        assert recorded["final"] is True
        assert recorded["approved_credit_amount"] == "1000.00"
        assert await queue(client) == []
        detail = (await client.get(f"/v1/decisions/{case['id']}", headers=auth())).json()
        assert detail["outcome"] == "review"  # the decision itself never changes
        assert detail["final_outcome"] == "accept"
        assert [r["id"] for r in detail["reviews"]] == [recorded["id"]]

    async def test_the_reservation_follows_the_review(self, client: httpx.AsyncClient) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-2")
        assert (await reservation(client, "SO-2")).status_code == 404  # a review case reserves nothing
        response = await review(client, case["id"], outcome="prepayment", approved_credit_amount="400.00")
        assert response.status_code == 201, response.text
        assert response.json()["prepayment_amount"] == "600.00"
        reserved = (await reservation(client, "SO-2")).json()
        assert reserved["decision_id"] == case["id"]
        assert reserved["status"] == "active"
        assert reserved["reserved_amount"] == "400.00"

    async def test_a_reject_reserves_nothing(self, client: httpx.AsyncClient) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-3")
        assert (await review(client, case["id"], outcome="reject")).status_code == 201
        assert (await reservation(client, "SO-3")).status_code == 404

    async def test_requires_a_reason(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-4")
        for body in ({"outcome": "accept"}, {"outcome": "accept", "reason": "   "}):
            response = await client.post(f"/v1/decisions/{case['id']}/review", json=body, headers=auth(REVIEWER))
            assert response.status_code == 422
            assert "reason" in [error["field"] for error in response.json()["errors"]]
        assert await count_rows(engine, "reviews") == 0

    async def test_refuses_terms_that_do_not_add_up(self, client: httpx.AsyncClient) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-5")
        response = await review(client, case["id"], outcome="reject", approved_credit_amount="1.00")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "approved_credit_amount"

    async def test_refuses_terms_that_do_not_fit_the_decided_order_with_409(self, client: httpx.AsyncClient) -> None:
        """The body is well formed; the decided order's amount and currency refuse it (the document cannot)."""
        case = await decide(client, "1000.00", "00000000", "SO-5")
        for body in (
            {"outcome": "accept", "approved_credit_amount": "500.00"},
            {"outcome": "prepayment", "approved_credit_amount": "1000.00"},
            {"outcome": "prepayment", "approved_credit_amount": "1.001"},
        ):
            response = await review(client, case["id"], **body)
            assert response.status_code == 409, body
            assert response.json()["errors"][0]["field"] == "approved_credit_amount"

    async def test_a_settled_case_takes_no_second_review(self, client: httpx.AsyncClient) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-6")
        assert (await review(client, case["id"], outcome="reject")).status_code == 201
        again = await review(client, case["id"], SECOND_REVIEWER, outcome="accept")
        assert again.status_code == 409
        assert again.json()["code"] == "not_under_review"

    async def test_a_decision_replaced_by_a_later_one_cannot_be_reviewed(self, client: httpx.AsyncClient) -> None:
        first = await decide(client, "1000.00", "00000000", "SO-7")
        body = order_body("900.00", "00000000", order_id="SO-7", customer_id="C-SO-7")
        assert (await client.post("/v1/decisions", json=body, headers=auth())).status_code == 201
        response = await review(client, first["id"], outcome="accept")
        assert response.status_code == 409
        assert response.json()["code"] == "decision_superseded"

    async def test_a_decision_replaced_by_a_later_one_leaves_the_queue(self, client: httpx.AsyncClient) -> None:
        first = await decide(client, "1000.00", "00000000", "SO-9")
        second = await decide(client, "900.00", "00000000", "SO-9")
        assert [case["decision"]["id"] for case in await queue(client)] == [second["id"]]
        await decide(client, "100.00", "00000000", "SO-9")  # a small order: no report, decided on the limit
        assert await queue(client) == []
        assert first["outcome"] == second["outcome"] == "review"

    async def test_needs_the_review_scope_and_writes_nothing_without_it(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-8")
        assert (await review(client, case["id"], key_for("read"), outcome="accept")).status_code == 403
        assert (await review(client, case["id"], key_for("decide"), outcome="accept")).status_code == 403
        assert await count_rows(engine, "reviews") == 0

    async def test_an_unknown_decision_is_404(self, client: httpx.AsyncClient) -> None:
        assert (await review(client, "no-such-decision", outcome="accept")).status_code == 404


class TestOnlyCasesSentToReviewAreReviewed:
    async def test_an_accepted_decision_cannot_be_reviewed(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        accepted = await decide(client, "1250.00", "12345670", "SO-ACC")
        assert accepted["outcome"] == "accept"
        response = await review(client, accepted["id"], outcome="prepayment", approved_credit_amount="0.00")
        assert response.status_code == 409
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "not_under_review"
        assert "accept" in response.json()["detail"]
        assert await count_rows(engine, "reviews") == 0
        assert (await reservation(client, "SO-ACC")).json()["reserved_amount"] == "1250.00"

    async def test_a_reject_of_a_blocked_customer_cannot_become_credit(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await client.put(
            "/v1/customers/C-BLOCKED",
            json={"name": "Bakkerij Jansen B.V.", "country": "NL", "credit_block": {"reason": "fraud suspected"}},
            headers=auth(),
        )
        body = order_body("1000.00", "12345670", order_id="SO-BLK", customer_id="C-BLOCKED")
        rejected = (await client.post("/v1/decisions", json=body, headers=auth(REQUESTER))).json()
        assert rejected["outcome"] == "reject"
        response = await review(client, rejected["id"], outcome="accept")
        assert response.status_code == 409
        assert response.json()["code"] == "not_under_review"
        assert await count_rows(engine, "reviews") == 0
        assert (await reservation(client, "SO-BLK")).status_code == 404

    async def test_the_key_that_asked_for_the_decision_does_not_review_it(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-OWN", key=ALL_KEY)
        response = await review(client, case["id"], ALL_KEY, outcome="accept")
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "reviewer_requested_decision"
        assert await count_rows(engine, "reviews") == 0
        assert (await review(client, case["id"], REVIEWER, outcome="accept")).status_code == 201

    async def test_nor_takes_the_second_review_of_four_eyes(self, client: httpx.AsyncClient) -> None:
        case = await decide(client, "60000.00", "12345671", "SO-OWN-BIG", key=ALL_KEY)
        assert (await review(client, case["id"], REVIEWER, outcome="accept")).json()["final"] is False
        second = await review(client, case["id"], ALL_KEY, outcome="accept")
        assert second.status_code == 403
        assert second.json()["code"] == "reviewer_requested_decision"
        assert (await reservation(client, "SO-OWN-BIG")).status_code == 404


class TestFourEyes:
    async def test_above_the_amount_a_second_different_reviewer_settles(self, client: httpx.AsyncClient) -> None:
        case = await decide(client, "60000.00", "12345671", "SO-BIG")
        first = await review(client, case["id"], outcome="accept")
        assert first.status_code == 201
        assert first.json()["final"] is False
        assert (await reservation(client, "SO-BIG")).status_code == 404  # nothing reserved yet
        waiting = await queue(client)
        assert waiting[0]["awaiting"] == "second_review"
        assert waiting[0]["reviews"][0]["id"] == first.json()["id"]

        same = await review(client, case["id"], outcome="accept")
        assert same.status_code == 409
        assert same.json()["code"] == "four_eyes_required_other_reviewer"

        second = await review(
            client, case["id"], SECOND_REVIEWER, outcome="prepayment", approved_credit_amount="40000.00"
        )
        assert second.status_code == 201
        assert second.json()["final"] is True
        assert second.json()["step"] == 2
        assert await queue(client) == []
        assert (await reservation(client, "SO-BIG")).json()["reserved_amount"] == "40000.00"
        detail = (await client.get(f"/v1/decisions/{case['id']}", headers=auth())).json()
        assert [r["step"] for r in detail["reviews"]] == [1, 2]
        assert detail["final_outcome"] == "prepayment"

    async def test_below_the_amount_one_review_settles(self, client: httpx.AsyncClient) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-SMALL-CASE")
        assert (await review(client, case["id"], outcome="accept")).json()["final"] is True


class TestHistoryAndAudit:
    async def test_history_filters_reviewed_and_unreviewed(self, client: httpx.AsyncClient) -> None:
        reviewed = await decide(client, "1000.00", "00000000", "SO-R")
        open_case = await decide(client, "1000.00", "00000000", "SO-U")
        assert (await review(client, reviewed["id"], outcome="accept")).status_code == 201
        yes = (await client.get("/v1/decisions", params={"reviewed": "true"}, headers=auth())).json()
        no = (await client.get("/v1/decisions", params={"reviewed": "false"}, headers=auth())).json()
        assert [item["id"] for item in yes["items"]] == [reviewed["id"]]
        assert [item["id"] for item in no["items"]] == [open_case["id"]]

    async def test_a_review_is_in_the_audit_chain(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-A")
        await review(client, case["id"], outcome="prepayment", approved_credit_amount="250.00")
        async with engine.connect() as connection:
            rows = (
                await connection.execute(text("SELECT event_type, subject_id FROM audit_events ORDER BY seq"))
            ).all()
        assert [tuple(row) for row in rows][-1] == ("decision.reviewed", case["id"])
        verified = (await client.get("/v1/audit/verify", headers=auth())).json()
        assert verified["intact"] is True

    async def test_amounts_add_up_for_every_reviewed_outcome(self, client: httpx.AsyncClient) -> None:
        for index, (outcome, approved) in enumerate((("accept", None), ("prepayment", "10.00"), ("reject", None))):
            case = await decide(client, "1000.00", "00000000", f"SO-X{index}")
            body: dict[str, Any] = {"outcome": outcome}
            if approved:
                body["approved_credit_amount"] = approved
            recorded = (await review(client, case["id"], **body)).json()
            total = Decimal(recorded["approved_credit_amount"]) + Decimal(recorded["prepayment_amount"])
            assert total == (Decimal("0") if outcome == "reject" else Decimal("1000.00"))
