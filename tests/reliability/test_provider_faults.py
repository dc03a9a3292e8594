"""A real server buying reports from a fake provider that is slow, resets, fails, or sends garbage or too much."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, order_body
from tests.providers.fake_creditsafe import PASSWORD, USERNAME
from tests.reliability.fake_provider_server import FAULTS, FakeProviderServer
from tests.reliability.server import Server

PROVIDER_PORT = 18620
BUDGET_MS = 2500
# The client waits far longer than the budget; the slow and trickling faults last longer still, so a decision
# that answers at all was cut off by its own budget. The slowest answer is printed, not asserted.
CLIENT_TIMEOUT_SECONDS = 30
PER_FAULT = 4


async def _decide(client: httpx.AsyncClient, index: int) -> tuple[httpx.Response, float]:
    body = order_body("300.00", f"5{index:06d}1", order_id=f"SO-PF{index}", customer_id=f"C-PF{index}")
    started = time.monotonic()
    response = await client.post("/v1/decisions", json=body, headers=auth(), timeout=CLIENT_TIMEOUT_SECONDS)
    return response, time.monotonic() - started


@pytest.mark.slow
class TestProviderFaults:
    async def test_every_fault_gives_the_fallback_within_budget_and_never_a_5xx(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        provider = FakeProviderServer(PROVIDER_PORT)
        await provider.start()
        server = Server(
            database_url,
            tmp_path / "server.log",
            provider="creditsafe",
            creditsafe_base_url=f"http://127.0.0.1:{PROVIDER_PORT}/v1",
            creditsafe_username=USERNAME,
            creditsafe_password=PASSWORD,
            decision_budget_ms=str(BUDGET_MS),
            provider_breaker_failures="1000",  # every fault reaches the provider: no breaker shortcut
            decision_rate_limit="0",
        )
        sources: Counter[str] = Counter()
        slowest = 0.0
        index = 0
        try:
            await asyncio.to_thread(server.start)
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
                for fault in (None, *FAULTS, None):
                    provider.fault = fault
                    answers = await asyncio.gather(*(_decide(client, index + n) for n in range(PER_FAULT)))
                    index += PER_FAULT
                    for response, seconds in answers:
                        assert response.status_code == 201, (fault, response.status_code, response.text[:300])
                        decision = response.json()
                        source = decision["report"]["source"]
                        assert source == ("fresh" if fault is None else "unavailable"), (fault, source)
                        if fault is not None:  # the policy's provider-unavailable fallback decided
                            assert decision["outcome"] == "review", (fault, decision["outcome"])
                            assert "PROVIDER_UNAVAILABLE" in [reason["code"] for reason in decision["reasons"]]
                        sources[f"{fault or 'healthy'}:{source}"] += 1
                        slowest = max(slowest, seconds)
        finally:
            await asyncio.to_thread(server.stop)
            await provider.stop()
        print(
            f"provider faults: {index} decisions, {provider.faults_served} faulty answers, {dict(sources)}, "
            f"slowest {slowest:.2f} s"
        )
        assert provider.faults_served >= len(FAULTS) * PER_FAULT
