"""Engine, sessions and the schema's base. The one place that commits is `transaction()`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import DateTime, MetaData, String, Table, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _ExactSumType(TypeDecorator[int]):
    """What `exact_sum` answers, as a Python int: PostgreSQL's numeric, or SQLite's two partial sums."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite: "high,low", the sums of each amount's upper and lower 32 bits
            high, _, low = value.partition(",")
            return (int(high) << 32) + int(low)
        return int(value)


class exact_sum(FunctionElement[int]):
    """SUM of a column of minor units that cannot overflow: PostgreSQL sums bigints as numeric, but SQLite's
    SUM fails past 2^63, so there the upper and lower 32 bits of each amount are summed apart (each partial sum
    fits for billions of rows) and joined in Python."""

    type = _ExactSumType()
    name = "exact_sum"
    inherit_cache = True


@compiles(exact_sum)
def _exact_sum(element: exact_sum, compiler: SQLCompiler, **kw: Any) -> str:
    return f"sum({compiler.process(element.clauses, **kw)})"


@compiles(exact_sum, "sqlite")
def _exact_sum_sqlite(element: exact_sum, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"(sum(({column}) >> 32) || ',' || sum(({column}) & 4294967295))"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(
    database_url: str, pool_size: int = 10, pool_timeout: float = 10.0, busy_timeout_ms: int = 30_000
) -> AsyncEngine:
    """An async engine; on SQLite, write transactions take the database lock up front."""
    # orjson reads and writes the JSON columns several times faster than the standard library.
    json_options: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if database_url.startswith("sqlite"):
        memory = ":memory:" in database_url
        # A request waits at most the busy timeout for the write lock and the pool timeout for a connection,
        # so a locked file fails fast (503) instead of hanging.
        engine = create_async_engine(
            database_url,
            **json_options,
            poolclass=NullPool if memory else None,
            connect_args={"timeout": busy_timeout_ms / 1000},
            **({} if memory else {"pool_timeout": pool_timeout}),
            hide_parameters=True,
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    # hide_parameters: an error message never carries a row's values (names, request bodies) into a log.
    return create_async_engine(
        database_url,
        **json_options,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=pool_timeout,
        hide_parameters=True,
    )


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (pysqlite's default is lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Every transaction that may write takes the write lock first: two writers never both read
        # the same exposure and then both reserve against it. A read opens no transaction: each of its
        # statements reads one snapshot of its own, as every statement does under PostgreSQL's READ
        # COMMITTED, so no read may rely on more (those that need one snapshot read in one statement).
        # Each statement through aiosqlite costs several thread hand-offs, about 0.1 ms each here.
        if not connection.get_execution_options().get("creditgate_readonly", False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine and its session factory, built once in the app's lifespan."""

    def __init__(
        self, database_url: str, pool_size: int = 10, pool_timeout: float = 10.0, busy_timeout_ms: int = 30_000
    ) -> None:
        self.engine = create_engine(database_url, pool_size, pool_timeout, busy_timeout_ms)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Reads never take SQLite's write lock; on PostgreSQL the option changes nothing.
        self.read_sessions = async_sessionmaker(
            self.engine.execution_options(creditgate_readonly=True), expire_on_commit=False, autoflush=False
        )
        self.is_sqlite = database_url.startswith("sqlite")
        # SQLite takes one writer at a time. Writers of this process queue here, first come first served,
        # instead of in SQLite's busy handler, which polls with growing sleeps and so makes the tail. The
        # database's own lock (BEGIN IMMEDIATE) still serialises them against every other process.
        self._writer = asyncio.Lock() if self.is_sqlite else None
        self._writer_wait = pool_timeout

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block succeeds, rolls back when it raises."""
        if self._writer is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        try:
            async with asyncio.timeout(self._writer_wait):
                await self._writer.acquire()
        except TimeoutError:
            # As a pool that has no connection free in time: the caller gets a 503, never a hang.
            raise PoolTimeout(f"no turn to write within {self._writer_wait} s") from None
        try:
            async with self.sessions() as session, session.begin():
                yield session
        finally:
            self._writer.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work."""
        async with self.read_sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for statements built once and executed with parameters."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


@lru_cache(maxsize=128)
def upsert(dialect_name: str, table: Table, key: tuple[str, ...], updated: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET each `updated` column from the new row; or DO NOTHING.

    Built once per dialect and shape, then executed with the row as parameters: building the statement with
    the row's values in it costs more than executing it, and a reused statement also keeps its cache key.
    """
    statement = insert_for(dialect_name)(table)
    if not updated:
        return statement.on_conflict_do_nothing(index_elements=list(key))
    return statement.on_conflict_do_update(
        index_elements=list(key), set_={name: statement.excluded[name] for name in updated}
    )


def insert_for(dialect_name: str) -> Any:
    """The dialect's INSERT construct, for ON CONFLICT upserts (PostgreSQL and SQLite share the syntax)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return pg_insert if dialect_name == "postgresql" else sqlite_insert


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def dialect_insert(session: AsyncSession) -> Any:
    """The session's dialect's INSERT construct."""
    return insert_for(dialect_name(session))
