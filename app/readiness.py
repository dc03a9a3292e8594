"""Readiness: the database takes writes and its schema is at this release's head revision."""

from __future__ import annotations

import asyncio
from functools import cache

from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import ServiceUnavailable


class Readiness:
    """Answers whether this process may take traffic; once the schema is seen at head it is not asked again."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.schema_at_head = False

    async def check(self) -> None:
        """Raises ServiceUnavailable while the database is unreachable, locked, or not yet migrated."""
        try:
            async with asyncio.timeout(2):
                # A write transaction: on SQLite a file locked by someone else is not ready, though reads work.
                async with self.database.transaction() as session:
                    await session.execute(text("SELECT 1"))
                    # Once seen at head the schema stays there for this process: later checks cost one statement.
                    if not self.schema_at_head:
                        self.schema_at_head = await _schema_at_head(session)
        except (TimeoutError, SQLAlchemyError, OSError):
            raise ServiceUnavailable("the database is not reachable") from None
        if not self.schema_at_head:
            raise ServiceUnavailable(
                "the database schema is not at this release's head revision: run `creditgate migrate`",
                headers={"Retry-After": "5"},
            )


async def _schema_at_head(session: AsyncSession) -> bool:
    """Whether the revisions alembic recorded in the database are this release's heads (none on an empty one)."""
    if not await session.run_sync(_has_version_table):
        return False
    stored = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    return set(stored) == head_revisions()


def _has_version_table(session: Session) -> bool:
    # Asked first: on PostgreSQL, a statement on a missing table would abort the transaction.
    return inspect(session.connection()).has_table("alembic_version")


@cache
def head_revisions() -> frozenset[str]:
    """The head revisions of the migrations shipped with this release (read once from migrations/)."""
    from alembic.script import ScriptDirectory

    from app.db import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())
