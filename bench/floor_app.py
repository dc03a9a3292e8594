"""The service with floor routes in front: each stops the decision route after one more of its layers.

Served only by `bench/floor.py`, on a scratch database. Every floor route takes the decision's own body from
the same wrk script and answers a constant decision of the usual size, so the ladder shows what each layer
of the stack costs on its own: reading a POST body, validating it, authorising the caller, and touching the
database once per request or once per shared transaction (through `GroupCommit`, as decisions do).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from fastapi import FastAPI, Request, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import DecisionCallDep, JsonBody
from app.db import Database, ReadSession, WriteSession
from app.decisions.schemas import DecisionRequest
from app.group_commit import GroupCommit
from app.main import app_factory as service_factory
from app.services import services_of

PREFIX = "/bench-floor"
SELECT_ONE = text("SELECT 1")
CREATE_SCRATCH = text("CREATE TABLE IF NOT EXISTS bench_floor_writes (order_id VARCHAR(64) NOT NULL)")
INSERT_SCRATCH = text("INSERT INTO bench_floor_writes (order_id) VALUES (:order_id)")

# The size and shape of a cached-report acceptance, so each floor sends as many bytes as a decision does.
ANSWER = orjson.dumps(
    {
        "id": "dec_01JF0000000000000000000000",
        "order_id": "SO-FLOOR-1",
        "customer_id": "C-000001",
        "outcome": "accept",
        "amount": "1250.00",
        "currency": "EUR",
        "credit_limit": "25000.00",
        "exposure": "3200.00",
        "available_credit": "21800.00",
        "approved_credit_amount": "1250.00",
        "prepayment_amount": "0.00",
        "payment_terms_days": 30,
        "risk_class": "B",
        "segment": "standard",
        "reasons": [
            {
                "code": "WITHIN_LIMIT",
                "message": "The order fits the available credit.",
                "rule": "limit",
                "facts": {"available_credit": "21800.00", "amount": "1250.00"},
            }
        ],
        "report": {
            "provider": "simulated",
            "reference": "SIM-10000011",
            "risk_class": "B",
            "score": 71,
            "source": "cache",
            "fetched_at": datetime(2026, 12, 1, tzinfo=UTC).isoformat(),
        },
        "policy_version": "default-1",
        "decided_at": datetime(2026, 12, 2, tzinfo=UTC).isoformat(),
    }
)

# In ladder order: (route, what it adds to the one before).
FLOORS = (
    ("post", "POST: read the body, answer a constant decision"),
    ("validate", "+ the JSON check and DecisionRequest validation"),
    ("authorise", "+ the decision route's dependency (key, scope, idempotency)"),
    ("read", "+ one read transaction per request (SELECT 1)"),
    ("write", "instead: one shared write per batch (INSERT, COMMIT): the least a durable answer needs"),
    ("grouped", "+ one shared read per batch (SELECT 1) first, as a decision reads before it writes"),
)


def _answer() -> Response:
    return Response(ANSWER, status_code=201, media_type="application/json")


class _SharedFloor:
    """One shared read and one shared write per batch: the least database work a grouped decision can do."""

    def __init__(self, database: Database) -> None:
        self.reads: GroupCommit[DecisionRequest, None, ReadSession] = GroupCommit(
            database.read, self._select, name="bench_floor_reads", writers=4
        )
        self.writes: GroupCommit[DecisionRequest, None, WriteSession] = GroupCommit(
            database.transaction, self._insert, name="bench_floor_writes", writers=1 if database.is_sqlite else 4
        )

    async def _select(self, session: AsyncSession, items: Sequence[DecisionRequest]) -> list[None]:
        await session.execute(SELECT_ONE)
        return [None] * len(items)

    async def _insert(self, session: AsyncSession, items: Sequence[DecisionRequest]) -> list[None]:
        rows = [{"order_id": item.order.id} for item in items]
        await session.execute(INSERT_SCRATCH, rows)
        return [None] * len(items)


async def create_scratch_table(database: Database) -> None:
    async with database.transaction() as session:
        await session.execute(CREATE_SCRATCH)


def app_factory() -> FastAPI:
    """For `uvicorn --factory bench.floor_app:app_factory`: the served service, floors in front."""
    return with_floors(service_factory())


def with_floors(app: FastAPI) -> FastAPI:
    shared: dict[str, _SharedFloor] = {}

    def floor() -> _SharedFloor:
        if not shared:
            shared["floor"] = _SharedFloor(services_of(app).database)
        return shared["floor"]

    @app.post(f"{PREFIX}/post", include_in_schema=False)
    async def post(request: Request) -> Response:
        await request.body()
        return _answer()

    @app.post(f"{PREFIX}/validate", dependencies=[JsonBody], include_in_schema=False)
    async def validate(body: DecisionRequest) -> Response:
        return _answer()

    @app.post(f"{PREFIX}/authorise", dependencies=[JsonBody], include_in_schema=False)
    async def authorise(body: DecisionRequest, call: DecisionCallDep) -> Response:
        await call.rate.hit(call.principal.key_id)
        return _answer()

    @app.post(f"{PREFIX}/read", dependencies=[JsonBody], include_in_schema=False)
    async def read(body: DecisionRequest, call: DecisionCallDep) -> Response:
        await call.rate.hit(call.principal.key_id)
        async with services_of(app).database.read() as session:
            await session.execute(SELECT_ONE)
        return _answer()

    @app.post(f"{PREFIX}/write", dependencies=[JsonBody], include_in_schema=False)
    async def write(body: DecisionRequest, call: DecisionCallDep) -> Response:
        await call.rate.hit(call.principal.key_id)
        await floor().writes.run(body)
        return _answer()

    @app.post(f"{PREFIX}/grouped", dependencies=[JsonBody], include_in_schema=False)
    async def grouped(body: DecisionRequest, call: DecisionCallDep) -> Response:
        await call.rate.hit(call.principal.key_id)
        await floor().reads.run(body)
        await floor().writes.run(body)
        return _answer()

    # First in the routing table, as /health/live nearly is: route matching then costs the floors no more
    # than it costs the bare endpoint.
    floors = [route for route in app.router.routes if getattr(route, "path", "").startswith(PREFIX)]
    app.router.routes[:] = floors + [route for route in app.router.routes if route not in floors]
    return app
