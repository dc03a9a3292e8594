"""kill -9 the real server under load, restart it, and check that nothing a client was told is lost."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, order_body
from tests.erp import manual_limit, recomputed_exposure_minor
from tests.reliability.server import Server

KILLS = 3
CLIENTS = 8
CUSTOMERS = [f"C-CRASH-{index}" for index in range(4)]
LOAD_SECONDS = 1.5


async def verify_audit_chain(client: httpx.AsyncClient, acknowledged: dict[str, str]) -> int:
    """The audit log's hash chain verifies after the kill, and holds at least one event per stored decision."""
    response = await client.get("/v1/audit/verify", headers=auth(), timeout=60)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["intact"] is True, result["first_broken"]
    assert result["events_checked"] >= len(acknowledged)
    return int(result["events_checked"])


async def _setup(client: httpx.AsyncClient) -> None:
    for customer_id in CUSTOMERS:
        body = {"name": customer_id, "country": "NL", "registration_number": "12345670", **manual_limit("20000.00")}
        response = await client.put(f"/v1/customers/{customer_id}", json=body, headers=auth())
        assert response.status_code in (200, 201), response.text
        invoice = {
            "currency": "EUR",
            "amount": "1000.00",
            "open_amount": "1000.00",
            "issue_date": "2026-11-01",
            "due_date": "2027-12-01",
        }
        response = await client.put(
            f"/v1/customers/{customer_id}/invoices/INV-{customer_id}", json=invoice, headers=auth()
        )
        assert response.status_code in (200, 201), response.text


async def _load(client: httpx.AsyncClient, run: int, acknowledged: dict[str, str], stats: dict[str, int]) -> None:
    """Decisions from CLIENTS concurrent clients until the server dies under them."""

    async def one_client(worker: int) -> None:
        for sequence in range(10_000):
            customer_id = CUSTOMERS[(worker + sequence) % len(CUSTOMERS)]
            order_id = f"SO-K{run}-W{worker}-{sequence}"
            body = order_body("150.00", "12345670", order_id=order_id, customer_id=customer_id)
            stats["sent"] += 1
            try:
                response = await client.post("/v1/decisions", json=body, headers=auth(), timeout=10)
            except httpx.TransportError:
                stats["cut"] += 1
                return  # the server is gone
            assert response.status_code < 500, response.text
            if 200 <= response.status_code < 300:
                acknowledged[response.json()["id"]] = order_id

    await asyncio.gather(*(one_client(worker) for worker in range(CLIENTS)))


async def _check(client: httpx.AsyncClient, engine: AsyncEngine, acknowledged: dict[str, str]) -> None:
    async with engine.connect() as connection:
        stored = {row[0] for row in (await connection.execute(text("SELECT id FROM decisions"))).all()}
        orphans = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM reservations r LEFT JOIN decisions d ON d.id = r.decision_id "
                    "WHERE d.id IS NULL"
                )
            )
        ).scalar_one()
    lost = set(acknowledged) - stored
    assert lost == set(), f"{len(lost)} acknowledged decisions are not stored"
    assert orphans == 0
    for customer_id in CUSTOMERS:
        response = await client.get(f"/v1/customers/{customer_id}/credit-file", headers=auth())
        assert response.status_code == 200, response.text
        shown = Decimal(response.json()["exposure"]["total"]) * 100
        assert shown == await recomputed_exposure_minor(engine, customer_id)
    await verify_audit_chain(client, acknowledged)


@pytest.mark.slow
class TestCrashSafety:
    async def test_kill_9_under_load_loses_no_acknowledged_decision(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        server = Server(database_url, tmp_path / "server.log", decision_rate_limit="0")
        acknowledged: dict[str, str] = {}
        stats = {"sent": 0, "cut": 0}
        server.start()
        try:
            async with httpx.AsyncClient(
                base_url=server.base_url, limits=httpx.Limits(max_connections=CLIENTS)
            ) as client:
                await _setup(client)
                for run in range(KILLS):
                    load = asyncio.create_task(_load(client, run, acknowledged, stats))
                    await asyncio.sleep(LOAD_SECONDS)
                    server.kill()
                    await load
                    server.start()
                    await _check(client, engine, acknowledged)
        finally:
            server.stop()
        print(
            f"crash safety: {KILLS} kills, {stats['sent']} decisions sent, "
            f"{len(acknowledged)} acknowledged, {stats['cut']} cut off"
        )
        assert len(acknowledged) > KILLS * CLIENTS
        assert stats["cut"] >= KILLS
