"""Hostile documents against a real server process: each is refused with a 4xx and the process, and the
decisions in flight beside it, carry on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, key_for, order_body
from tests.reliability.server import Server

PORT = 18625  # this file's own server port, apart from the other suites'
HEADER = "country,registration_number,buyer_name,limit_amount,currency,valid_from,valid_to,insurer_reference,risk_class"

HOSTILE: dict[str, tuple[str, str, bytes]] = {
    # About 60 KB of flow brackets: libyaml's C composer recursed until the process died (SIGSEGV).
    "policy yaml brackets": ("/v1/policies", "application/yaml", b"[" * 60_000),
    "policy yaml mappings": ("/v1/policies", "application/yaml", b"{a: " * 60_000),
    "policy yaml block sequences": ("/v1/policies", "application/yaml", b"- " * 100_000 + b"x\n"),
    "policy json": ("/v1/policies", "application/json", b"[" * 100_000 + b"]" * 100_000),
    "decision json": ("/v1/decisions", "application/json", b'{"order": ' + b"[" * 120_000 + b"]" * 120_000 + b"}"),
    "insurer csv field": (
        "/v1/providers/insurer-limits",
        "text/csv",
        (HEADER + "\nNL,12345672," + "B" * 300_000 + ",1000.00,EUR,2026-01-01,,ATR-1,\n").encode(),
    ),
    "insurer csv nul": (
        "/v1/providers/insurer-limits",
        "text/csv",
        (HEADER + "\nNL,12345672,Bak\x00kerij,1000.00,EUR,2026-01-01,,ATR-1,\n").encode(),
    ),
}


async def _decisions(client: httpx.AsyncClient, stop: asyncio.Event, statuses: list[int]) -> None:
    sequence = 0
    while not stop.is_set() or len(statuses) < 10:
        sequence += 1
        body = order_body("150.00", order_id=f"SO-HOSTILE-{sequence}", customer_id=f"C-HOSTILE-{sequence % 5}")
        response = await client.post("/v1/decisions", json=body, headers=auth(), timeout=30)
        statuses.append(response.status_code)


@pytest.mark.slow
class TestHostileDocuments:
    async def test_each_is_refused_and_the_server_and_its_neighbours_live_on(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        server = Server(database_url, tmp_path / "server.log", port=PORT, decision_rate_limit="0")
        server.start()
        answers: dict[str, int] = {}
        neighbours: list[int] = []
        try:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                stop = asyncio.Event()
                load = asyncio.create_task(_decisions(client, stop, neighbours))
                for name, (path, media_type, body) in HOSTILE.items():
                    headers = {**auth(key_for("admin")), "Content-Type": media_type}
                    response = await client.post(path, content=body, headers=headers, timeout=60)
                    answers[name] = response.status_code
                    assert response.headers["content-type"] == "application/problem+json", (name, response.text)
                    assert response.json()["errors"], name
                    assert server.process is not None
                    assert server.process.poll() is None, name
                    assert (await client.get("/health/live")).status_code == 200, name
                stop.set()
                await load
        finally:
            alive = server.process is not None and server.process.poll() is None
            server.stop()
        print(f"hostile documents: {answers}; {len(neighbours)} decisions beside them, statuses {set(neighbours)}")
        assert alive, (tmp_path / "server.log").read_text()[-3000:]
        assert all(status in (413, 422) for status in answers.values()), answers
        assert len(neighbours) >= 10
        assert set(neighbours) == {201}
