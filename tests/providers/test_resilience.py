"""A slow, failing or broken provider never hangs a checkout nor answers it with a 5xx (through the API)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.providers.resilience import CircuitBreaker
from tests.conftest import auth, order_body
from tests.providers.conftest import AppClient, codes, decide, usage
from tests.providers.fake_creditsafe import FakeCreditsafe
from tests.providers.test_report_cache import policy_with_max_age

# The fake's hanging report operation sleeps an hour: a decision that comes back at all was cut off by
# its own budget (300 ms here), never by the provider. Durations are a benchmark's business, not a test's.
HANGING = {"decision_budget_ms": 300, "provider_timeout_ms": 100, "provider_retries": 1}
# A roomier budget where a fallback provider must get its turn after the primary's timeouts.
CHAINED = {"decision_budget_ms": 3000, "provider_timeout_ms": 300, "provider_retries": 1}


class TestHangingProvider:
    async def test_decisions_return_within_budget_with_the_fallback_outcome(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.hang = True
        async with app_client(**HANGING) as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
        assert fake.report_requests >= 1  # the provider was asked and never answered
        assert decision["outcome"] == "review"
        assert decision["report"]["source"] == "unavailable"
        assert codes(decision) == ["PROVIDER_UNAVAILABLE"]

    async def test_concurrent_decisions_all_return_within_budget(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.hang = True
        # Twenty decisions opening their first connections at once can spend a 300 ms budget before any reaches
        # the provider; a roomier one still ends every wait on the hanging provider by its timeouts.
        async with app_client(**{**HANGING, "decision_budget_ms": 3000}) as client:
            bodies = [order_body("1250.00", f"3000000{n % 4}", order_id=f"SO-{n}") for n in range(20)]
            decisions = await asyncio.gather(*(decide(client, body) for body in bodies))
            details = [
                (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json() for decision in decisions
            ]
        assert {decision["outcome"] for decision in decisions} == {"review"}
        assert {decision["report"]["source"] for decision in decisions} == {"unavailable"}
        assert fake.report_requests >= 1  # every one of them came back although the provider never answered
        assert all(detail["timings"]["provider_ms"] > 0 for detail in details)


class TestCircuitBreaker:
    async def test_opens_after_n_failures_and_later_decisions_do_not_ask(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.hang = True
        async with app_client(**HANGING, provider_breaker_failures=3) as client:
            for n in range(3):
                await decide(client, order_body("1250.00", f"4000000{n}", order_id=f"SO-{n}"))
            asked = (fake.search_requests, fake.report_requests)
            later = [await decide(client, order_body("1250.00", "12345672", order_id=f"SO-L{n}")) for n in range(5)]
        assert asked[1] >= 3
        assert (fake.search_requests, fake.report_requests) == asked  # nobody waited on the provider again
        assert {decision["outcome"] for decision in later} == {"review"}
        assert {decision["report"]["source"] for decision in later} == {"unavailable"}

    async def test_closes_again_after_the_provider_recovers(self, app_client: AppClient, fake: FakeCreditsafe) -> None:
        fake.hang = True
        roomy = {"decision_budget_ms": 3000, "provider_timeout_ms": 150, "provider_retries": 0}
        async with app_client(**roomy, provider_breaker_failures=2, provider_breaker_reset_seconds=1.5) as client:
            for n in range(2):
                await decide(client, order_body("1250.00", f"4000000{n}", order_id=f"SO-{n}"))
            fake.hang = False
            while_open = await decide(client, order_body("1250.00", "12345672", order_id="SO-open"))
            await asyncio.sleep(1.6)
            trial = await decide(client, order_body("1250.00", "12345672", order_id="SO-trial"))
            after = await decide(client, order_body("1250.00", "12345673", order_id="SO-after"))
        assert while_open["report"]["source"] == "unavailable"
        assert trial["report"]["source"] == "fresh"
        assert after["report"]["source"] == "fresh"

    def test_a_failed_trial_opens_it_again(self) -> None:
        now = [0.0]
        breaker = CircuitBreaker(failure_threshold=2, reset_seconds=10, clock=lambda: now[0])
        breaker.record_failure()
        assert breaker.state == "closed"
        breaker.record_failure()
        assert breaker.state == "open"
        now[0] = 10.0
        assert breaker.state == "half_open"
        breaker.before_call("creditsafe")
        assert breaker.rejects()  # one trial at a time
        breaker.record_failure()
        assert breaker.state == "open"
        now[0] = 20.0
        breaker.before_call("creditsafe")
        breaker.record_success()
        assert breaker.state == "closed"


class TestRetries:
    async def test_retries_a_transient_failure_and_pays_once(self, app_client: AppClient, fake: FakeCreditsafe) -> None:
        fake.fail_status, fake.fail_times = 503, 1
        async with app_client(provider_retries=2) as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
            spend = await usage(client)
        assert decision["report"]["source"] == "fresh"
        assert fake.report_requests == 2
        assert (spend["calls"], spend["reports_bought"], spend["errors"]) == (1, 1, 0)

    async def test_retries_a_rate_limit(self, app_client: AppClient, fake: FakeCreditsafe) -> None:
        fake.fail_status, fake.fail_times = 429, 1
        async with app_client(provider_retries=1) as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
        assert decision["report"]["source"] == "fresh"

    async def test_does_not_retry_what_a_retry_cannot_fix(self, app_client: AppClient, fake: FakeCreditsafe) -> None:
        fake.fail_status, fake.fail_times = 400, -1
        async with app_client(provider_retries=2) as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
        assert decision["report"]["source"] == "unavailable"
        assert fake.report_requests == 1


class TestBadResponses:
    async def test_a_malformed_report_is_the_fallback_not_a_500(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.malformed = True
        async with app_client(provider_retries=2) as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
            spend = await usage(client)
        assert decision["outcome"] == "review"
        assert codes(decision) == ["PROVIDER_UNAVAILABLE"]
        assert fake.report_requests == 1  # a bad answer is not retried
        assert spend["errors"] == 1

    async def test_a_crashing_third_party_adapter_is_the_fallback_not_a_500(self, app_client: AppClient) -> None:
        async with app_client(provider="tests.providers.plugins:BrokenProvider") as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
        assert decision["report"]["source"] == "unavailable"
        assert decision["report"]["provider"] == "broken"


class TestStaleIfError:
    async def test_an_expired_report_serves_when_the_provider_is_down(
        self, app_client: AppClient, fake: FakeCreditsafe, tmp_path: Path
    ) -> None:
        async with app_client(policy_file=policy_with_max_age(tmp_path, 0)) as client:
            first = await decide(client, order_body("1250.00", "12345672", order_id="SO-1"))
            fake.fail_status, fake.fail_times = 503, -1
            second = await decide(client, order_body("1250.00", "12345672", order_id="SO-2"))
            spend = await usage(client)
        assert second["report"]["source"] == "stale"
        assert second["report"]["reference"] == first["report"]["reference"]
        assert "STALE_REPORT" in codes(second)
        assert second["report"]["risk_class"] == "B"
        assert spend["stale_hits"] == 1

    async def test_no_stale_report_is_older_than_the_setting_allows(
        self, app_client: AppClient, fake: FakeCreditsafe, tmp_path: Path
    ) -> None:
        policy = policy_with_max_age(tmp_path, 0)
        async with app_client(policy_file=policy, provider_stale_max_days=0) as client:
            await decide(client, order_body("1250.00", "12345672", order_id="SO-1"))
            fake.fail_status, fake.fail_times = 503, -1
            second = await decide(client, order_body("1250.00", "12345672", order_id="SO-2"))
        assert second["report"]["source"] == "unavailable"


class TestChain:
    async def test_the_fallback_provider_answers_when_the_primary_is_unavailable(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.fail_status, fake.fail_times = 503, -1
        async with app_client(provider="creditsafe,simulated") as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
            simulated = await usage(client, "simulated")
        assert decision["report"]["provider"] == "simulated"
        assert decision["report"]["source"] == "fresh"
        assert simulated["calls"] == 1

    async def test_not_found_at_the_primary_ends_the_chain(self, app_client: AppClient, fake: FakeCreditsafe) -> None:
        async with app_client(provider="creditsafe,simulated") as client:
            decision = await decide(client, order_body("1250.00", "00000000"))
            simulated = await usage(client, "simulated")
        assert decision["report"]["source"] == "not_found"
        assert decision["report"]["provider"] == "creditsafe"
        assert simulated["calls"] == 0

    async def test_an_open_breaker_skips_straight_to_the_fallback(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.hang = True
        async with app_client(**CHAINED, provider="creditsafe,simulated", provider_breaker_failures=1) as client:
            await decide(client, order_body("1250.00", "12345672", order_id="SO-1"))
            asked = fake.report_requests
            decision = await decide(client, order_body("1250.00", "12345673", order_id="SO-2"))
        assert fake.report_requests == asked
        assert decision["report"]["provider"] == "simulated"

    async def test_a_hanging_primary_leaves_time_for_the_fallback(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.hang = True
        async with app_client(**CHAINED, provider="creditsafe,simulated") as client:
            decision = await decide(client, order_body("1250.00", "12345672"))
        assert fake.report_requests >= 1  # the primary was asked, hung, and the fallback still had its turn
        assert decision["report"]["provider"] == "simulated"
        assert decision["report"]["source"] == "fresh"
