"""Test harness: one migrated database per run, a clean state per test, the app driven in process."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import URL, bindparam, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

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


async def _create_database(server: URL, name: str) -> None:
    """CREATE DATABASE `name` on the server, from its `postgres` database, unless it is there already."""
    engine = create_async_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if found.first() is None:
                quoted = connection.dialect.identifier_preparer.quote(name)
                await connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        await engine.dispose()


def worker_database_url(url: str, worker: str | None) -> str:
    """The database a pytest-xdist worker runs on: `<database>_<worker>` (test_gw0, test_gw1...) on PostgreSQL,
    created on first use and kept for the next run; the URL itself without xdist, and on SQLite (a file per run)."""
    if worker is None or not url.startswith("postgresql"):
        return url
    server = make_url(url)
    name = f"{server.database}_{worker}"
    asyncio.run(_create_database(server, name))
    return server.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated from empty with `alembic upgrade head`, once per test run (per xdist worker)."""
    from alembic import command

    url = worker_database_url(_database_url(tmp_path_factory.mktemp("db")), os.environ.get("PYTEST_XDIST_WORKER"))
    if url.startswith("postgresql"):
        asyncio.run(_reset_postgres(url))
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    return url


# Children before parents, so that no row is deleted while another still refers to it.
TABLES = [table.name for table in reversed(metadata.sorted_tables)]
# The tables holding at least one row, in one statement: most tests touch a handful of the tables.
_TABLES_WITH_ROWS = text(
    " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in TABLES)  # noqa: S608
)
# Sequences a test has drawn from (last_value stays NULL until the first nextval and after a RESTART).
_USED_SEQUENCES = text(
    "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)


async def truncate_all(engine: AsyncEngine) -> None:
    """Every table empty and every identity sequence back at its start, as after `TRUNCATE ... RESTART IDENTITY`.

    Only the tables that hold rows are emptied, with DELETE: on PostgreSQL, TRUNCATE makes new files for each
    table and its indexes, tenths of a second for the whole schema, where deleting the few rows a test wrote
    takes milliseconds. The audit log, which refuses DELETE, is the one table still truncated there."""
    async with engine.begin() as connection:
        with_rows = set((await connection.execute(_TABLES_WITH_ROWS)).scalars())
        tables = [name for name in TABLES if name in with_rows]
        if engine.dialect.name == "postgresql":
            sequences = list((await connection.execute(_USED_SEQUENCES)).scalars())
            for table in tables:
                if table == "audit_events":
                    # The audit log refuses DELETE, and TRUNCATE unless the session asks for maintenance.
                    await connection.execute(text("SET LOCAL creditgate.audit_maintenance = 'on'"))
                    await connection.execute(text("TRUNCATE audit_events"))
                else:
                    await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - table names from metadata
            for sequence in sequences:
                await connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        elif tables:
            # SQLite has no TRUNCATE: drop the triggers of the tables to empty (the audit log's refuse DELETE)
            # and restore them from sqlite_master in the same transaction.
            triggers = (
                await connection.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :tables"
                    ).bindparams(bindparam("tables", expanding=True)),
                    {"tables": tables},
                )
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


# Apps already built, most recently used last, and those whose lifespan is running: see running_app.
_APPS: list[tuple[Settings, FastAPI]] = []
_APPS_KEPT = 8
_RUNNING: set[int] = set()


def _app_for(settings: Settings) -> FastAPI:
    for index, (built_for, app) in enumerate(_APPS):
        if built_for == settings and id(app) not in _RUNNING:
            _APPS.append(_APPS.pop(index))
            return app
    app = create_app(settings)
    _APPS.append((settings.model_copy(deep=True), app))
    del _APPS[:-_APPS_KEPT]
    return app


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app for these settings with its lifespan running, for one test.

    The lifespan is the test's own: it builds every resource afresh (the database pool, the services and their
    caches, the outgoing client, the background tasks) and closes them after the test. The app object around it
    is built once per run (per worker) and settings, and reused: what create_app builds never changes once built
    (the routes, which FastAPI resolves on an app's first request, a tenth of a second each time; the middleware;
    the error handlers). An app already running for another fixture of the same test is never handed out twice."""
    app = _app_for(settings)
    _RUNNING.add(id(app))
    try:
        async with app.router.lifespan_context(app):
            yield app
    finally:
        _RUNNING.discard(id(app))


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(settings) as app:
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
