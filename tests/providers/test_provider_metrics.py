"""/metrics follows the provider path: failed calls by kind, cache lookups by result, the breaker's state."""

from __future__ import annotations

from tests.conftest import order_body
from tests.providers.conftest import AppClient, decide
from tests.providers.fake_creditsafe import FakeCreditsafe
from tests.test_observability import delta, scrape


class TestProviderMetrics:
    async def test_cache_lookups_move_with_hits_and_misses(self, app_client: AppClient) -> None:
        async with app_client() as client:
            before = await scrape(client)
            await decide(client, order_body("1250.00", "12345672", order_id="SO-1"))
            await decide(client, order_body("1250.00", "12345672", order_id="SO-2"))
            after = await scrape(client)
        assert delta(before, after, "creditgate_report_cache_lookups_total", result="miss") == 1
        assert delta(before, after, "creditgate_report_cache_lookups_total", result="hit") == 1
        assert delta(before, after, "creditgate_provider_calls_total", provider="creditsafe", result="ok") == 1

    async def test_errors_by_kind_and_the_breaker_opening(self, app_client: AppClient, fake: FakeCreditsafe) -> None:
        fake.fail_status, fake.fail_times = 503, -1
        async with app_client(provider_retries=0, provider_breaker_failures=2) as client:
            before = await scrape(client)
            assert before.get(("creditgate_provider_breaker_state", (("provider", "creditsafe"),))) == 0
            for n in range(2):
                await decide(client, order_body("1250.00", f"4000000{n}", order_id=f"SO-{n}"))
            after = await scrape(client)
        assert delta(before, after, "creditgate_provider_errors_total", provider="creditsafe", kind="unavailable") == 2
        assert after[("creditgate_provider_breaker_state", (("provider", "creditsafe"),))] == 2  # open
