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
    # Replicas that start together on an empty database would both create alembic_version and run the first
    # revision; one would crash. So the whole upgrade is one transaction, begun before the current revision is
    # read, and replicas take turns: the next one waits, then finds the schema at head with nothing left to do.
    # On SQLite the transaction's BEGIN IMMEDIATE is the turn (alembic would otherwise commit after every
    # revision there, letting a waiting replica in between with a stale idea of the schema); on PostgreSQL an
    # advisory lock held by the transaction is.
    with connection.begin():
        if connection.dialect.name == "postgresql":
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
