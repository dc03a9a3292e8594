"""What-if replay: stored decisions through a candidate policy, with the inputs they were taken on."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.decisions.models import Decision
from app.main import create_app
from app.money import from_minor
from app.policy.schema import load_policy_file
from app.policy_versions.replay import replay_decision
from app.settings import DEFAULT_POLICY_FILE, Settings
from tests.conftest import KEYS, auth, count_rows, key_for, order_body
from tests.policy.history import synthetic_rows
from tests.test_policies_api import DEFAULT_VERSION, decide, store, stricter

DEFAULT_POLICY = load_policy_file(DEFAULT_POLICY_FILE)

# Every path of the default policy the simulated provider can reach: classes, small orders, unknown company,
# no registration number, currencies with and without a rate, repeat customers.
API_HISTORY = [
    ("1250.00", "12345670", "EUR"),
    ("9000.00", "12345676", "EUR"),
    ("1250.00", "12345678", "EUR"),
    ("60000.00", "12345671", "EUR"),
    ("1000.00", "00000000", "EUR"),
    ("1250.00", "12345679", "EUR"),
    ("120.00", "12345672", "EUR"),
    ("1500.00", None, "EUR"),
    ("1250", "12345670", "JPY"),
    ("1250.00", "12345670", "USD"),
    ("3000.00", "12345673", "EUR"),
    ("20000.00", "12345674", "EUR"),
    ("4000.00", "12345677", "EUR"),
]


async def simulate(
    client: httpx.AsyncClient, version: str, body: dict[str, Any] | None = None, key: str | None = None
) -> httpx.Response:
    return await client.post(f"/v1/policies/{version}/simulate", json=body or {}, headers=auth(key or key_for("read")))


async def make_history(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    decisions = []
    for index, (amount, registration, currency) in enumerate(API_HISTORY):
        for repeat in range(2):  # the second order of a customer has no first-order cap
            body = order_body(
                amount, registration, currency=currency, order_id=f"SO-{index}-{repeat}", customer_id=f"C-{index}"
            )
            decisions.append(await decide(client, body))
    return decisions


async def insert_rows(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(Decision), rows)


def assert_unchanged(result: dict[str, Any], count: int) -> None:
    assert result["replayed"] == count
    assert result["changed"] == 0
    assert all(t["old_outcome"] == t["new_outcome"] for t in result["transitions"])
    assert sum(t["count"] for t in result["transitions"]) == count
    assert all(c["before"] == c["after"] and Decimal(c["change"]) == 0 for c in result["credit_extended"])
    assert result["changed_decisions"] == {"items": [], "next_cursor": None}


class TestReplayReproducesHistory:
    async def test_replaying_the_api_history_under_the_active_version_changes_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        decisions = await make_history(client)
        response = await simulate(client, DEFAULT_VERSION)
        assert response.status_code == 200, response.text
        result = response.json()
        assert_unchanged(result, len(decisions))
        assert {t["old_outcome"] for t in result["transitions"]} == {"accept", "prepayment", "review", "reject"}

    async def test_every_stored_field_of_a_varied_history_is_reproduced_exactly(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        rows = synthetic_rows(600, DEFAULT_POLICY, seed=11)
        await insert_rows(engine, rows)
        result = (await simulate(client, DEFAULT_VERSION)).json()
        assert_unchanged(result, 600)
        async with engine.connect() as connection:
            stored = (await connection.execute(select(Decision))).all()
        for row in stored:
            evaluation = replay_decision(row, DEFAULT_POLICY)
            currency = row.currency
            assert evaluation.outcome.value == row.outcome
            assert evaluation.credit_limit == from_minor(row.credit_limit_minor, currency)
            assert evaluation.available_credit == from_minor(row.available_credit_minor, currency)
            assert evaluation.approved_credit_amount == from_minor(row.approved_credit_minor, currency)
            assert evaluation.prepayment_amount == from_minor(row.prepayment_minor, currency)
            assert evaluation.payment_terms_days == row.payment_terms_days
            assert [reason.as_dict() for reason in evaluation.reasons] == row.reasons

    async def test_a_decision_under_version_1_replays_identically_after_version_2_is_activated(
        self, client: httpx.AsyncClient
    ) -> None:
        old = await make_history(client)
        await store(client, await stricter(client))
        await client.post("/v1/policies/v2/activate", headers=auth(key_for("admin")))
        await decide(client, order_body("1250.00", "12345670", order_id="SO-new"))
        shown = (await client.get(f"/v1/decisions/{old[0]['id']}", headers=auth())).json()
        assert shown["policy_version"] == DEFAULT_VERSION
        result = (await simulate(client, DEFAULT_VERSION, {"policy_version": DEFAULT_VERSION})).json()
        assert_unchanged(result, len(old))


class TestWhatIf:
    async def test_a_stricter_candidate_shows_the_transitions_and_the_credit_it_takes_back(
        self, client: httpx.AsyncClient
    ) -> None:
        await decide(client, order_body("1250.00", "12345670", order_id="SO-1", customer_id="C-1"))
        await decide(client, order_body("2000.00", "12345670", order_id="SO-2", customer_id="C-1"))
        await decide(client, order_body("500.00", "12345670", order_id="SO-3", customer_id="C-1"))
        await store(client, await stricter(client))
        result = (await simulate(client, "v2")).json()
        assert result["policy_version"] == "v2"
        assert result["replayed"] == 3
        assert result["changed"] == 2
        transitions = {(t["old_outcome"], t["new_outcome"]): t for t in result["transitions"]}
        assert transitions["accept", "review"]["count"] == 2
        assert transitions["accept", "review"]["amount"] == {"EUR": "3250.00"}
        assert transitions["accept", "accept"]["count"] == 1
        assert result["credit_extended"] == [
            {"currency": "EUR", "before": "3750.00", "after": "500.00", "change": "-3250.00"}
        ]
        changed = result["changed_decisions"]["items"]
        assert [item["order_id"] for item in changed] == ["SO-2", "SO-1"]
        assert changed[0]["old"]["outcome"] == "accept"
        assert changed[0]["new"]["outcome"] == "review"
        assert changed[0]["new"]["reasons"][-1]["code"] == "ABOVE_REVIEW_THRESHOLD"
        assert changed[0]["policy_version"] == DEFAULT_VERSION

    async def test_changed_decisions_come_in_pages_that_cover_each_once(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await insert_rows(engine, synthetic_rows(300, DEFAULT_POLICY, seed=3))
        await store(client, await stricter(client))
        seen: list[str] = []
        body: dict[str, Any] = {"limit": 7}
        while True:
            result = (await simulate(client, "v2", body)).json()
            page = result["changed_decisions"]
            seen.extend(item["decision_id"] for item in page["items"])
            if page["next_cursor"] is None:
                break
            body = {"limit": 7, "cursor": page["next_cursor"]}
        assert result["changed"] > 7
        assert len(seen) == len(set(seen)) == result["changed"]

    async def test_filters_narrow_the_replay(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        rows = synthetic_rows(200, DEFAULT_POLICY, seed=5)
        await insert_rows(engine, rows)
        customer = rows[0]["customer_id"]
        by_customer = (await simulate(client, DEFAULT_VERSION, {"customer_id": customer})).json()
        assert by_customer["replayed"] == sum(1 for row in rows if row["customer_id"] == customer)
        by_outcome = (await simulate(client, DEFAULT_VERSION, {"outcome": "prepayment"})).json()
        assert by_outcome["replayed"] == sum(1 for row in rows if row["outcome"] == "prepayment")
        assert {t["old_outcome"] for t in by_outcome["transitions"]} == {"prepayment"}
        period = {"decided_from": rows[10]["decided_at"].isoformat(), "decided_to": rows[20]["decided_at"].isoformat()}
        assert (await simulate(client, DEFAULT_VERSION, period)).json()["replayed"] == 10

    async def test_a_replay_writes_nothing_and_asks_no_provider(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        decisions = await make_history(client)
        # A replica whose provider always fails: a replay that asked it would turn decisions into reviews.
        failing = Settings(database_url=database_url, api_keys=SecretStr(json.dumps(KEYS)), simulated_failure_rate=1.0)
        app = create_app(failing)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://replica.test") as replica:
                result = (await simulate(replica, DEFAULT_VERSION)).json()
        assert_unchanged(result, len(decisions))
        assert await count_rows(engine, "decisions") == len(decisions)


class TestSimulationRequests:
    async def test_admin_may_simulate_too(self, client: httpx.AsyncClient) -> None:
        assert (await simulate(client, DEFAULT_VERSION, key=key_for("admin"))).status_code == 200

    @pytest.mark.parametrize("scope", ["decide", "review", "receivables"])
    async def test_other_scopes_may_not(self, client: httpx.AsyncClient, scope: str) -> None:
        assert (await simulate(client, DEFAULT_VERSION, key=key_for(scope))).status_code == 403

    async def test_an_unknown_version_is_a_404(self, client: httpx.AsyncClient) -> None:
        assert (await simulate(client, "nope")).status_code == 404

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"cursor": "garbage"}, "cursor"),
            ({"decided_from": "2026-11-23T10:00:00"}, "decided_from"),
            ({"outcome": "maybe"}, "outcome"),
            ({"limit": 0}, "limit"),
            ({"surprise": 1}, "surprise"),
        ],
    )
    async def test_a_bad_request_names_the_field(
        self, client: httpx.AsyncClient, body: dict[str, Any], field: str
    ) -> None:
        response = await simulate(client, DEFAULT_VERSION, body)
        assert response.status_code == 422
        assert [error["field"] for error in response.json()["errors"]] == [field]
