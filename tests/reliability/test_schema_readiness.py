"""Readiness is false while the database's schema is not at this release's head: never ready and answering 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from pydantic import SecretStr

from app.db import alembic_config
from app.main import create_app
from app.readiness import head_revisions
from app.settings import Settings
from tests.conftest import KEYS, auth, order_body


def _config(url: str) -> Config:
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture
def scratch_url(tmp_path: Path) -> str:
    """A SQLite file of this test's own, empty until the test migrates it."""
    return f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"


@pytest.fixture
async def scratch_client(scratch_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=scratch_url, api_keys=SecretStr(json.dumps(KEYS)), decision_rate_limit=0))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http,
    ):
        yield http


class TestReadinessFollowsTheSchema:
    async def test_an_unmigrated_database_is_live_but_not_ready(self, scratch_client: httpx.AsyncClient) -> None:
        assert (await scratch_client.get("/health/live")).status_code == 200
        response = await scratch_client.get("/health/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "creditgate migrate" in response.json()["detail"]
        assert response.headers["retry-after"]

    async def test_a_schema_behind_head_is_not_ready_until_migrated(
        self, scratch_client: httpx.AsyncClient, scratch_url: str
    ) -> None:
        await asyncio.to_thread(command.upgrade, _config(scratch_url), "0008")
        assert (await scratch_client.get("/health/ready")).status_code == 503
        await asyncio.to_thread(command.upgrade, _config(scratch_url), "head")
        assert (await scratch_client.get("/health/ready")).status_code == 200
        decided = await scratch_client.post("/v1/decisions", json=order_body(), headers=auth())
        assert decided.status_code == 201

    async def test_a_database_at_head_is_ready(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/health/ready")).status_code == 200
        assert len(head_revisions()) == 1
