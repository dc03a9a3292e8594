"""Cost control through the API: the shared cache, coalesced purchases, small orders, and the spend ledger."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import DEFAULT_POLICY_FILE
from tests.conftest import auth, count_rows, key_for, order_body
from tests.providers.conftest import AppClient, codes, decide, usage
from tests.providers.fake_creditsafe import FakeCreditsafe


def policy_with_max_age(tmp_path: Path, days: int) -> Path:
    document = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    document["reports"]["max_age_days"] = days
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


class TestCache:
    async def test_buys_a_report_once_and_reuses_it(
        self, app_client: AppClient, fake: FakeCreditsafe, engine: AsyncEngine
    ) -> None:
        async with app_client() as client:
            first = await decide(client, order_body("1250.00", "12345672", order_id="SO-1"))
            second = await decide(client, order_body("900.00", "12345672", order_id="SO-2"))
            spend = await usage(client)
        assert first["report"]["source"] == "fresh"
        assert second["report"]["source"] == "cache"
        assert second["report"]["reference"] == first["report"]["reference"]
        assert second["report"]["fetched_at"] == first["report"]["fetched_at"]
        assert fake.report_requests == 1
        assert await count_rows(engine, "credit_reports") == 1
        assert spend["calls"] == 1
        assert spend["reports_bought"] == 1
        assert spend["cache_hits"] == 1
        assert spend["cost"] == [{"amount": "10.00", "currency": "EUR"}]

    async def test_the_same_number_written_differently_is_the_same_company(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        async with app_client() as client:
            await decide(client, order_body("1250.00", "12345672", order_id="SO-1"))
            spaced = await decide(client, order_body("1250.00", "1234 56.72", order_id="SO-2"))
        assert spaced["report"]["source"] == "cache"
        assert fake.report_requests == 1

    async def test_the_cache_is_shared_by_a_second_app_on_the_same_database(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        async with app_client() as replica_one:
            await decide(replica_one, order_body("1250.00", "12345672", order_id="SO-1"))
        async with app_client() as replica_two:
            decision = await decide(replica_two, order_body("1250.00", "12345672", order_id="SO-2"))
        assert decision["report"]["source"] == "cache"
        assert fake.report_requests == 1

    async def test_buys_again_when_the_report_is_older_than_the_policy_allows(
        self, app_client: AppClient, fake: FakeCreditsafe, tmp_path: Path
    ) -> None:
        async with app_client(policy_file=policy_with_max_age(tmp_path, 0)) as client:
            await decide(client, order_body("1250.00", "12345672", order_id="SO-1"))
            again = await decide(client, order_body("1250.00", "12345672", order_id="SO-2"))
        assert again["report"]["source"] == "fresh"
        assert fake.report_requests == 2

    async def test_the_decision_detail_keeps_the_raw_payload_hash(self, app_client: AppClient) -> None:
        async with app_client() as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
            detail = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
        assert len(detail["report_snapshot"]["raw_hash"]) == 64
        assert detail["report_snapshot"]["recommended_limit"] == "25000.00"
        assert detail["report_snapshot"]["days_beyond_terms"] == 4

    async def test_a_report_with_a_nul_character_is_still_used_and_paid_for(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.business_name = "Bakkerij\u0000 Jansen"  # PostgreSQL stores no NUL in text or JSONB
        async with app_client() as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
            detail = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
            spend = await usage(client)
        assert decision["report"]["source"] == "fresh"
        assert detail["report_snapshot"]["company_name"] == "Bakkerij Jansen"
        assert spend["reports_bought"] == 1


class TestCoalescing:
    async def test_a_hundred_concurrent_decisions_for_a_new_company_make_one_paid_call(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.latency = 0.2  # the purchase is still running while the others arrive
        async with app_client(decision_budget_ms=10_000, provider_timeout_ms=5_000) as client:
            bodies = [order_body("1250.00", "12345672", order_id=f"SO-{n}") for n in range(100)]
            decisions = await asyncio.gather(*(decide(client, body) for body in bodies))
            spend = await usage(client)
        assert fake.report_requests == 1
        assert fake.auth_requests == 1
        assert Counter(decision["report"]["source"] for decision in decisions) == {"fresh": 1, "cache": 99}
        assert {decision["report"]["risk_class"] for decision in decisions} == {"B"}
        assert spend["calls"] == 1
        assert spend["cache_hits"] == 99

    async def test_concurrent_decisions_for_different_companies_buy_one_report_each(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.latency = 0.05
        async with app_client(decision_budget_ms=10_000, provider_timeout_ms=5_000) as client:
            bodies = [
                order_body("1250.00", f"2000000{n % 5}", order_id=f"SO-{n}", customer_id=f"C-{n % 5}")
                for n in range(30)
            ]
            await asyncio.gather(*(decide(client, body) for body in bodies))
        assert fake.report_requests == 5


class TestSmallOrders:
    async def test_a_small_order_buys_no_report(self, app_client: AppClient, fake: FakeCreditsafe) -> None:
        async with app_client() as client:
            decision = await decide(client, order_body("120.00", "12345672"))
            spend = await usage(client)
        assert decision["report"]["source"] == "none"
        assert "SMALL_ORDER_NO_REPORT" in codes(decision)
        assert fake.auth_requests == fake.search_requests == fake.report_requests == 0
        assert spend["calls"] == 0

    async def test_a_small_order_uses_a_report_already_in_the_cache(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        async with app_client() as client:
            await decide(client, order_body("1250.00", "12345672", order_id="SO-1"))
            small = await decide(client, order_body("120.00", "12345672", order_id="SO-2"))
        assert small["report"]["source"] == "cache"
        assert small["report"]["risk_class"] == "B"
        assert fake.report_requests == 1


class TestUsage:
    async def test_needs_the_read_scope(self, app_client: AppClient) -> None:
        async with app_client() as client:
            allowed = await client.get("/v1/providers/usage", headers=auth(key_for("read")))
            refused = await client.get("/v1/providers/usage", headers=auth(key_for("decide")))
            anonymous = await client.get("/v1/providers/usage")
        assert allowed.status_code == 200
        assert refused.status_code == 403
        assert anonymous.status_code == 401

    async def test_counts_errors_and_not_found_by_provider_and_day(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.fail_status, fake.fail_times = 503, -1
        async with app_client(provider_retries=0) as client:
            await decide(client, order_body("1250.00", "12345672", order_id="SO-1"))
            await decide(client, order_body("1250.00", "00000000", order_id="SO-2"))
            response = await client.get("/v1/providers/usage", headers=auth())
        [day] = response.json()["items"]
        assert day["provider"] == "creditsafe"
        assert (day["calls"], day["errors"], day["not_found"], day["reports_bought"]) == (2, 1, 1, 0)
        assert day["cost"] == []

    async def test_refuses_a_range_that_ends_before_it_starts(self, app_client: AppClient) -> None:
        async with app_client() as client:
            response = await client.get(
                "/v1/providers/usage", params={"day_from": "2026-11-23", "day_to": "2026-11-01"}, headers=auth()
            )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.day_from"


async def test_not_found_is_remembered_for_the_burst_but_not_bought(
    app_client: AppClient, fake: FakeCreditsafe
) -> None:
    async with app_client() as client:
        bodies = [order_body("1250.00", "00000000", order_id=f"SO-{n}") for n in range(10)]
        decisions = await asyncio.gather(*(decide(client, body) for body in bodies))
    assert {decision["report"]["source"] for decision in decisions} == {"not_found"}
    assert {decision["outcome"] for decision in decisions} == {"review"}
    assert fake.search_requests == 1
    assert fake.report_requests == 0


async def test_a_provider_that_cannot_be_built_stops_the_start(app_client: AppClient) -> None:
    with pytest.raises(ValueError, match="CREDITGATE_CREDITSAFE_USERNAME"):
        async with app_client(creditsafe_username=""):
            pass
