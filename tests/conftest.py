"""Test harness: one migrated database per run, a clean state per test, the app driven in process."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import alembic_config, create_engine
from app.main import create_app
from app.models import metadata
from app.settings import ALL_SCOPES, Settings

# One key per scope, one with every scope, and one with none.
KEYS: dict[str, list[str]] = {f"test-key-{scope}-0000000000": [scope] for scope in ALL_SCOPES}
KEYS["test-key-all-scopes-00000000"] = list(ALL_SCOPES)
KEYS["test-key-no-scopes-000000000"] = []
ALL_KEY = "test-key-all-scopes-00000000"


def key_for(scope: str) -> str:
    return f"test-key-{scope}-0000000000"


def auth(key: str = ALL_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("CREDITGATE_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_root / 'creditgate-test.db'}"


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated from empty with `alembic upgrade head`, once per test run."""
    from alembic import command

    url = _database_url(tmp_path_factory.mktemp("db"))
    if url.startswith("postgresql"):
        asyncio.run(_reset_postgres(url))
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    return url


async def truncate_all(engine: AsyncEngine) -> None:
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # The audit log refuses TRUNCATE unless the session asks for maintenance.
            await connection.execute(text("SET LOCAL creditgate.audit_maintenance = 'on'"))
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # SQLite has no TRUNCATE: lift the append-only triggers for the DELETE and restore them from
            # sqlite_master in the same transaction.
            triggers = (
                await connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
            ).all()
            for name, _sql in triggers:
                await connection.execute(text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - table names from metadata
            for _name, sql in triggers:
                await connection.execute(text(sql))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A direct engine for assertions on stored rows; every test starts from empty tables."""
    engine = create_engine(database_url)
    await truncate_all(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The rate limit is off here (one test key sends hundreds of decisions at once); its own tests turn it on.
    return Settings(database_url=database_url, api_keys=SecretStr(json.dumps(KEYS)), decision_rate_limit=0)


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http:
            yield http


async def count_rows(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows in every table of the schema: what a refused request must leave exactly as it was."""
    return {table.name: await count_rows(engine, table.name) for table in metadata.sorted_tables}


def order_body(
    amount: str = "1250.00",
    registration_number: str | None = "12345670",
    *,
    order_id: str = "SO-1001",
    customer_id: str = "C-42",
    currency: str = "EUR",
    country: str = "NL",
) -> dict[str, Any]:
    customer: dict[str, Any] = {"id": customer_id, "name": "Bakkerij Jansen B.V.", "country": country}
    if registration_number is not None:
        customer["registration_number"] = registration_number
    return {"order": {"id": order_id, "amount": amount, "currency": currency}, "customer": customer}
