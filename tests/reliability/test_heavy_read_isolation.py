"""100 concurrent CSV exports against a real server: the decision path keeps its latency, no export is cut off.

Prints decision p50/p99 without and with the exports (figures, not asserted); asserts that every decision is
answered 201, that every export either streams every row or is refused with 503 and Retry-After before any
byte, and that nothing else comes back.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, key_for, order_body
from tests.reliability.server import SERVER_PORT, Server
from tests.reliability.test_heavy_reads import store_decisions

STORED = 20_000  # an export of them is 40 chunks
EXPORTS = 100
DECIDERS = 4
SECONDS = 8.0


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


class Exports:
    """EXPORTS clients asking for the whole history as CSV, again and again, until stopped.

    Each has a client of its own: one pool of a hundred connections costs its process more CPU per request than
    the server spends, and would measure the client rather than the server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.running = True
        self.statuses: Counter[int] = Counter()
        self.broken: list[str] = []
        self.unexpected: list[str] = []

    async def run(self) -> None:
        await asyncio.gather(*(self._worker() for _ in range(EXPORTS)))

    async def _worker(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(120.0)) as client:
            while self.running:
                await self._export(client)

    async def _export(self, client: httpx.AsyncClient) -> None:
        async with client.stream("GET", "/v1/decisions/export", headers=auth(key_for("read"))) as response:
            lines, last = 0, b""
            try:
                async for chunk in response.aiter_raw():
                    lines += chunk.count(b"\n")
                    last = chunk or last
            except httpx.HTTPError as exc:
                self.broken.append(f"{response.status_code} after {lines} lines: {exc!r}")
                return
        self.statuses[response.status_code] += 1
        # Every stored row and the header, whole (decisions taken meanwhile may add rows).
        if response.status_code == 200 and (lines < STORED + 1 or not last.endswith(b"\r\n")):
            self.broken.append(f"200 with {lines} lines of at least {STORED + 1}")
        elif response.status_code == 503:
            if not response.headers.get("retry-after"):
                self.unexpected.append("503 without Retry-After")
            await asyncio.sleep(1.0)  # a client that heeds Retry-After, in a hurry
        elif response.status_code != 200:
            self.unexpected.append(str(response.status_code))


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
                exports = Exports(server.base_url)
                exporting = asyncio.create_task(exports.run())
                await asyncio.sleep(1.0)  # every export client has asked at least once
                beside = Decisions(client, "beside")
                await beside.run()
                exports.running = False
                await exporting
        finally:
            await asyncio.to_thread(server.stop)
        (alone_p50, alone_p99), (beside_p50, beside_p99) = alone.figures(), beside.figures()
        print(
            f"\ndecisions alone: {len(alone.latencies)}, p50 {alone_p50:.1f} ms, p99 {alone_p99:.1f} ms; "
            f"beside {EXPORTS} concurrent exports of {STORED} rows: {len(beside.latencies)}, "
            f"p50 {beside_p50:.1f} ms, p99 {beside_p99:.1f} ms ({beside_p99 / alone_p99:.2f} x); "
            f"exports {dict(exports.statuses)}; slowest decisions {sorted(beside.latencies)[-5:]}"
        )
        print((tmp_path / "server.log").read_text()[-3000:])
        assert set(alone.statuses) == {201}
        assert set(beside.statuses) == {201}
        assert exports.broken == [], exports.broken[:3]
        assert exports.unexpected == [], exports.unexpected[:3]
        assert exports.statuses[200] > 0
