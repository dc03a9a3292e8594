"""Fresh, migrated databases for a run: a temporary SQLite file, or the local PostgreSQL with its schema reset."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from alembic import command

from app.db import alembic_config


@dataclass(frozen=True)
class BenchDatabase:
    """A database the bench owns for one run: its kind, the app's URL, and a plain driver DSN for seeding."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    path: Path | None = None  # the SQLite file

    @property
    def asyncpg_dsn(self) -> str:
        return self.url.replace("postgresql+asyncpg://", "postgresql://", 1)


def fresh_sqlite(directory: Path) -> BenchDatabase:
    path = directory / "creditgate-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    database = BenchDatabase("sqlite", f"sqlite+aiosqlite:///{path}", path)
    _migrate(database.url)
    return database


def fresh_postgres(url: str) -> BenchDatabase:
    """Drops and recreates the public schema of the bench's own database, then migrates it."""
    database = BenchDatabase("postgresql", url)
    asyncio.run(_reset_schema(database.asyncpg_dsn))
    _migrate(url)
    return database


def postgres_reachable(url: str) -> bool:
    """Whether the server answers; the bench's own database is created there when it is missing."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def probe() -> None:
        try:
            connection = await asyncpg.connect(dsn, timeout=5)
        except asyncpg.InvalidCatalogNameError:
            await _create_database(dsn)
            connection = await asyncpg.connect(dsn, timeout=5)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


async def _create_database(dsn: str) -> None:
    """CREATE DATABASE for the DSN's database, issued from the server's maintenance database."""
    base, _, name = dsn.rpartition("/")
    name = name.split("?", 1)[0]
    connection = await asyncpg.connect(f"{base}/postgres", timeout=10)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _reset_schema(dsn: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()


def _migrate(url: str) -> None:
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def count_decisions(database: BenchDatabase) -> int:
    if database.kind == "sqlite":
        assert database.path is not None
        with closing(sqlite3.connect(database.path)) as connection:
            return int(connection.execute("SELECT count(*) FROM decisions").fetchone()[0])

    async def count() -> int:
        connection = await asyncpg.connect(database.asyncpg_dsn, timeout=10)
        try:
            return int(await connection.fetchval("SELECT count(*) FROM decisions"))
        finally:
            await connection.close()

    return asyncio.run(count())
