"""Alembic environment: the URL comes from creditgate's settings; migrations run on the async engine."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.db import create_engine
from app.models import metadata
from app.settings import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def _database_url() -> str:
    url: str | None = config.attributes.get("database_url")
    return url or get_settings().database_url


# Any constant shared by every replica: the key of the advisory lock that serialises migrations.
MIGRATION_LOCK_KEY = 0x63726564_69746761  # "creditga"


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Replicas that start together on an empty database would both create alembic_version and run the
        # first revision; one would crash. The lock makes them take turns: the second waits, then finds the
        # schema at head and has nothing left to do. It is held by this transaction and ends with it. (SQLite
        # needs none: the migration's write transaction begins with BEGIN IMMEDIATE.)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_database_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
