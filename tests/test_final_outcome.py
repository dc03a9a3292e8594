"""The final outcome, who settled a decision and when, in every read path: the history, one decision, the
credit file's recent decisions, the CSV export and the console's history and decision pages."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

import httpx
import pytest

from app.settings import key_id
from tests.conftest import ALL_KEY, auth, key_for, order_body
from tests.console.console import sign_in

REVIEWER = key_for("review")
SECOND_REVIEWER = ALL_KEY
REQUESTER = key_for("decide")


async def decide(client: httpx.AsyncClient, amount: str, registration_number: str, order_id: str, customer_id: str):
    body = order_body(amount, registration_number, order_id=order_id, customer_id=customer_id)
    response = await client.post("/v1/decisions", json=body, headers=auth(REQUESTER))
    assert response.status_code == 201, response.text
    return response.json()


async def review(client: httpx.AsyncClient, decision_id: str, key: str, **body: Any) -> dict[str, Any]:
    body.setdefault("reason", "Checked the trade references by phone.")
    response = await client.post(f"/v1/decisions/{decision_id}/review", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def export(client: httpx.AsyncClient, **params: str) -> list[dict[str, str]]:
    response = await client.get("/v1/decisions/export", params=params, headers=auth())
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.fixture
async def settled(client: httpx.AsyncClient) -> dict[str, Any]:
    """An order accepted on credit, decided again and reviewed to reject; and a case above the four-eyes amount
    that one reviewer accepted and a second settled with a prepayment. Plus an untouched accept."""
    accepted = await decide(client, "1000.00", "12345670", "SO-T1", "C-T1")
    assert accepted["outcome"] == "accept"
    # The same order again, now for a company the provider does not know: sent to a person.
    again = await decide(client, "1000.00", "00000000", "SO-T1", "C-T1")
    assert again["outcome"] == "review"
    rejected = await review(client, again["id"], REVIEWER, outcome="reject")
    assert rejected["final"] is True
    big = await decide(client, "60000.00", "12345671", "SO-T2", "C-T2")
    assert big["outcome"] == "review"
    first = await review(client, big["id"], REVIEWER, outcome="accept")
    assert first["final"] is False
    second = await review(client, big["id"], SECOND_REVIEWER, outcome="prepayment", approved_credit_amount="40000.00")
    assert second["final"] is True
    untouched = await decide(client, "500.00", "12345670", "SO-T3", "C-T1")
    return {"accepted": accepted, "rejected": (again, rejected), "two": (big, second), "untouched": untouched}


class TestFinalOutcomeInEveryReadPath:
    async def test_a_new_decision_answers_its_own_outcome_unsettled(self, client: httpx.AsyncClient) -> None:
        created = await decide(client, "1000.00", "00000000", "SO-NEW", "C-NEW")
        assert (created["outcome"], created["final_outcome"]) == ("review", "review")
        assert (created["settled_by"], created["settled_at"]) == (None, None)

    async def test_the_history_shows_final_outcomes_and_who_settled(
        self, client: httpx.AsyncClient, settled: dict[str, Any]
    ) -> None:
        again, rejected = settled["rejected"]
        big, second = settled["two"]
        items = {item["id"]: item for item in (await client.get("/v1/decisions", headers=auth())).json()["items"]}
        assert (items[again["id"]]["outcome"], items[again["id"]]["final_outcome"]) == ("review", "reject")
        assert items[again["id"]]["settled_by"] == key_id(REVIEWER)
        assert items[again["id"]]["settled_at"] == rejected["reviewed_at"]
        assert (items[big["id"]]["outcome"], items[big["id"]]["final_outcome"]) == ("review", "prepayment")
        assert items[big["id"]]["settled_by"] == key_id(SECOND_REVIEWER)
        assert items[big["id"]]["settled_at"] == second["reviewed_at"]
        earlier = items[settled["accepted"]["id"]]  # replaced by the later decision, never reviewed itself
        assert (earlier["final_outcome"], earlier["settled_by"], earlier["settled_at"]) == ("accept", None, None)

    async def test_the_history_filters_by_final_outcome(
        self, client: httpx.AsyncClient, settled: dict[str, Any]
    ) -> None:
        def ids(response: httpx.Response) -> list[str]:
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        history = "/v1/decisions"
        assert ids(await client.get(history, params={"final_outcome": "reject"}, headers=auth())) == [
            settled["rejected"][0]["id"]
        ]
        assert ids(await client.get(history, params={"final_outcome": "prepayment"}, headers=auth())) == [
            settled["two"][0]["id"]
        ]
        assert ids(await client.get(history, params={"final_outcome": "review"}, headers=auth())) == []
        accepted = ids(await client.get(history, params={"final_outcome": "accept"}, headers=auth()))
        assert accepted == [settled["untouched"]["id"], settled["accepted"]["id"]]
        both = await client.get(history, params={"outcome": "review", "final_outcome": "reject"}, headers=auth())
        assert ids(both) == [settled["rejected"][0]["id"]]

    async def test_a_bad_final_outcome_is_422_naming_it(self, client: httpx.AsyncClient) -> None:
        for path in ("/v1/decisions", "/v1/decisions/export"):
            response = await client.get(path, params={"final_outcome": "accepted"}, headers=auth())
            assert response.status_code == 422, path
            assert response.headers["content-type"].startswith("application/problem+json")
            assert [error["field"] for error in response.json()["errors"]] == ["query.final_outcome"]

    async def test_one_decision_shows_the_settlement_and_its_reviews(
        self, client: httpx.AsyncClient, settled: dict[str, Any]
    ) -> None:
        big, second = settled["two"]
        detail = (await client.get(f"/v1/decisions/{big['id']}", headers=auth())).json()
        assert (detail["outcome"], detail["final_outcome"]) == ("review", "prepayment")
        assert (detail["settled_by"], detail["settled_at"]) == (key_id(SECOND_REVIEWER), second["reviewed_at"])
        assert [review["step"] for review in detail["reviews"]] == [1, 2]

    async def test_the_credit_files_recent_decisions(self, client: httpx.AsyncClient, settled: dict[str, Any]) -> None:
        again, rejected = settled["rejected"]
        response = await client.get("/v1/customers/C-T1/credit-file", headers=auth())
        assert response.status_code == 200, response.text
        recent = {item["id"]: item for item in response.json()["recent_decisions"]}
        assert recent[again["id"]]["final_outcome"] == "reject"
        assert recent[again["id"]]["settled_by"] == key_id(REVIEWER)
        assert recent[again["id"]]["settled_at"] == rejected["reviewed_at"]
        assert recent[settled["untouched"]["id"]]["final_outcome"] == "accept"
        assert recent[settled["untouched"]["id"]]["settled_by"] is None

    async def test_the_export_has_the_new_columns_at_the_end_and_filters(
        self, client: httpx.AsyncClient, settled: dict[str, Any]
    ) -> None:
        response = await client.get("/v1/decisions/export", headers=auth())
        header = next(csv.reader(io.StringIO(response.text)))
        assert header[-4:] == ["api_key_id", "final_outcome", "settled_by", "settled_at"]
        big, second = settled["two"]
        rows = {row["id"]: row for row in await export(client)}
        assert (rows[big["id"]]["outcome"], rows[big["id"]]["final_outcome"]) == ("review", "prepayment")
        assert rows[big["id"]]["settled_by"] == key_id(SECOND_REVIEWER)
        assert rows[big["id"]]["settled_at"] == second["reviewed_at"].replace("+00:00", "Z")
        untouched = rows[settled["untouched"]["id"]]
        assert (untouched["final_outcome"], untouched["settled_by"], untouched["settled_at"]) == ("accept", "", "")
        assert [row["id"] for row in await export(client, final_outcome="reject")] == [settled["rejected"][0]["id"]]

    async def test_the_console_history_shows_the_final_outcome_beside_the_automated_one(
        self, client: httpx.AsyncClient, settled: dict[str, Any]
    ) -> None:
        await sign_in(client)
        page = await client.get("/console/decisions")
        assert page.status_code == 200
        big, _second = settled["two"]
        row = _row_of(page.text, big["id"])
        assert "Sent to review" in row
        assert "badge-prepayment" in row
        assert f"by {key_id(SECOND_REVIEWER)}" in row
        filtered = await client.get("/console/decisions", params={"final_outcome": "reject"})
        assert settled["rejected"][0]["id"] in filtered.text
        assert big["id"] not in filtered.text
        wrong = await client.get("/console/decisions", params={"final_outcome": "accepted"})
        assert 'aria-invalid="true"' in wrong.text

    async def test_the_console_decision_page_shows_the_settlement_and_review_history(
        self, client: httpx.AsyncClient, settled: dict[str, Any]
    ) -> None:
        await sign_in(client)
        big, _second = settled["two"]
        page = await client.get(f"/console/decisions/{big['id']}")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "Review in the queue" not in text
        assert "Final outcome:" in text
        assert f"settled by {key_id(SECOND_REVIEWER)}" in text
        assert "Review history" in text
        assert text.count("Checked the trade references by phone.") == 2
        assert "first of two reviewers" in text
        assert "settled the case" in text

    async def test_an_open_case_still_offers_the_queue(self, client: httpx.AsyncClient) -> None:
        case = await decide(client, "1000.00", "00000000", "SO-OPEN", "C-OPEN")
        await sign_in(client)
        page = await client.get(f"/console/decisions/{case['id']}")
        assert "Review in the queue" in page.text
        assert "Final outcome:" not in page.text


def _row_of(page: str, decision_id: str) -> str:
    start = page.index(f"/console/decisions/{decision_id}")
    return page[start : page.index("</tr>", start)]
