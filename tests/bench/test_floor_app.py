"""The floor routes do what their rung says, so the ladder in `make bench-floor` measures what it names."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.services import services_of
from app.settings import Settings
from bench.floor_app import ANSWER, FLOORS, PREFIX, create_scratch_table, with_floors
from tests.conftest import auth, count_rows, order_body, table_counts


@pytest.fixture
async def floors(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = with_floors(create_app(settings))
    async with app.router.lifespan_context(app):
        await create_scratch_table(services_of(app).database)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http:
                yield http
        finally:
            async with engine.begin() as connection:
                await connection.execute(text("DROP TABLE bench_floor_writes"))


async def test_every_rung_answers_a_decision_shaped_body(floors: httpx.AsyncClient) -> None:
    for name, _adds in FLOORS:
        response = await floors.post(f"{PREFIX}/{name}", json=order_body(order_id=f"SO-{name}"), headers=auth())
        assert response.status_code == 201, (name, response.text)
        assert response.content == ANSWER
        assert orjson.loads(response.content)["outcome"] == "accept"


async def test_the_floors_sit_first_in_the_routing_table(floors: httpx.AsyncClient) -> None:
    transport = floors._transport
    assert isinstance(transport, httpx.ASGITransport)
    paths = [getattr(route, "path", "") for route in transport.app.router.routes]  # type: ignore[attr-defined]
    assert paths[: len(FLOORS)] == [f"{PREFIX}/{name}" for name, _adds in FLOORS]


async def test_validating_rungs_refuse_what_the_decision_route_refuses(
    floors: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bad = order_body(amount="-5")
    assert (await floors.post(f"{PREFIX}/post", json=bad)).status_code == 201  # reads the body, nothing more
    for name in ("validate", "authorise", "read", "write", "grouped"):
        response = await floors.post(f"{PREFIX}/{name}", json=bad, headers=auth())
        assert response.status_code == 422, name
        assert "order.amount" in response.text
    for name in ("authorise", "read", "write", "grouped"):
        assert (await floors.post(f"{PREFIX}/{name}", json=order_body())).status_code == 401, name
    assert await count_rows(engine, "bench_floor_writes") == 0


async def test_only_the_writing_rungs_write_and_only_to_their_scratch_table(
    floors: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    before = await table_counts(engine)
    for name in ("validate", "authorise", "read"):
        assert (await floors.post(f"{PREFIX}/{name}", json=order_body(), headers=auth())).status_code == 201
    assert await count_rows(engine, "bench_floor_writes") == 0
    for index in range(3):
        body = order_body(order_id=f"SO-W{index}")
        assert (await floors.post(f"{PREFIX}/write", json=body, headers=auth())).status_code == 201
        assert (await floors.post(f"{PREFIX}/grouped", json=body, headers=auth())).status_code == 201
    assert await count_rows(engine, "bench_floor_writes") == 6
    assert await table_counts(engine) == before
