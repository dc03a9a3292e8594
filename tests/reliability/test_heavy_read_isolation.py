"""100 concurrent CSV exports against a real server: the decision path keeps its latency, no export is cut off.

Prints decision p50/p99 without and with the exports (figures, not asserted); asserts that every decision is
answered 201, that every export either streams every row or is refused with 503 and Retry-After before any
byte, and that nothing else comes back.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, key_for, order_body
from tests.reliability.server import ROOT, SERVER_PORT, Server
from tests.reliability.test_heavy_reads import store_decisions

STORED = 20_000  # an export of them is 100 chunks
EXPORTS = 100
DECIDERS = 4
SECONDS = 8.0
# Measured once the hundred that asked at the same instant have been answered or refused: from then on they
# come and go at their own pace.
LEAD_SECONDS = 3.0


class Decisions:
    """DECIDERS clients deciding one order after another for SECONDS; every latency kept."""

    def __init__(self, client: httpx.AsyncClient, tag: str) -> None:
        self.client = client
        self.tag = tag
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()

    async def run(self) -> None:
        deadline = time.monotonic() + SECONDS
        await asyncio.gather(*(self._worker(worker, deadline) for worker in range(DECIDERS)))

    async def _worker(self, worker: int, deadline: float) -> None:
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            body = order_body(
                "100.00",
                "12345670",
                order_id=f"SO-{self.tag}-{worker}-{sequence}",
                customer_id=f"C-{self.tag}-{worker}",
            )
            started = time.monotonic()
            response = await self.client.post("/v1/decisions", json=body, headers=auth(key_for("decide")))
            self.latencies.append(time.monotonic() - started)
            self.statuses[response.status_code] += 1

    def figures(self) -> tuple[float, float]:
        cuts = statistics.quantiles(self.latencies, n=100)
        return cuts[49] * 1000, cuts[98] * 1000


async def _export_load(base_url: str, seconds: float) -> asyncio.subprocess.Process:
    """EXPORTS export clients for `seconds`, in a process of their own (see export_load.py)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    arguments = ["-m", "tests.reliability.export_load", base_url, str(EXPORTS), str(STORED), str(seconds)]
    return await asyncio.create_subprocess_exec(
        sys.executable, *arguments, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )


@pytest.mark.slow
class TestExportsDoNotStarveDecisions:
    async def test_decision_latency_under_100_concurrent_exports(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        await store_decisions(engine, STORED)
        server = Server(database_url, tmp_path / "server.log", port=SERVER_PORT + 6, decision_rate_limit="0")
        await asyncio.to_thread(server.start)
        try:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=httpx.Timeout(60.0)) as client:
                for _warm_up in range(20):
                    await client.post("/v1/decisions", json=order_body(order_id=f"SO-W{_warm_up}"), headers=auth())
                alone = Decisions(client, "alone")
                await alone.run()
                exporting = await _export_load(server.base_url, LEAD_SECONDS + SECONDS)
                await asyncio.sleep(LEAD_SECONDS)
                beside = Decisions(client, "beside")
                await beside.run()
                output, _ = await asyncio.wait_for(exporting.communicate(), 180)
                assert exporting.returncode == 0
                exports = json.loads(output.decode().strip().splitlines()[-1])
        finally:
            await asyncio.to_thread(server.stop)
        (alone_p50, alone_p99), (beside_p50, beside_p99) = alone.figures(), beside.figures()
        print(
            f"\ndecisions alone: {len(alone.latencies)}, p50 {alone_p50:.1f} ms, p99 {alone_p99:.1f} ms; "
            f"beside {EXPORTS} concurrent exports of {STORED} rows: {len(beside.latencies)}, "
            f"p50 {beside_p50:.1f} ms, p99 {beside_p99:.1f} ms ({beside_p99 / alone_p99:.2f} x); "
            f"exports {exports['statuses']}"
        )
        assert set(alone.statuses) == {201}
        assert set(beside.statuses) == {201}
        assert exports["broken"] == [], exports["broken"][:3]
        assert exports["unexpected"] == [], exports["unexpected"][:3]
        assert exports["statuses"].get("200", 0) > 0
