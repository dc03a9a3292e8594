"""Engine, sessions and the schema's base. The one place that commits is `transaction()`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NewType

import orjson
from sqlalchemy import DateTime, MetaData, String, Table, event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from app import sqlite_connection
from app.errors import ServiceUnavailable
from app.settings import Settings
from app.sqlite_checkpoint import FALLBACK_CHECKPOINT_PAGES, WalCheckpointer

if TYPE_CHECKING:
    from alembic.config import Config

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The two kinds of session, told apart by the type checker only (at run time both are an AsyncSession): a
# function that writes or locks takes a WriteSession, which only `Database.transaction()` hands out, so a
# read session (on SQLite, one without BEGIN IMMEDIATE and so without the write lock) is a type error there.
# Functions that only read take an AsyncSession, which either kind is.
ReadSession = NewType("ReadSession", AsyncSession)
WriteSession = NewType("WriteSession", AsyncSession)
# What a read's Core statements run on: a session, or a bare connection (`Database.read_connection()`), which
# costs about 0.1 ms less per unit of work than setting a session up and taking it down.
Reader = AsyncSession | AsyncConnection


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
    database_url: str,
    pool_size: int = 10,
    pool_timeout: float = 10.0,
    busy_timeout_ms: int = 30_000,
    *,
    max_overflow: int | None = None,
    statement_timeout: float | None = None,
    connect_timeout: float | None = None,
    sqlite_synchronous: str = "FULL",
) -> AsyncEngine:
    """An async engine; on SQLite, write transactions take the database lock up front.

    On PostgreSQL, `statement_timeout` bounds every statement twice: the server cancels it, and the client gives
    up a little later when the server does not answer at all (a partition, not a reset); `connect_timeout` bounds
    opening a connection. Without them (migrations, the command line) a statement may take as long as it needs.
    """
    # orjson reads and writes the JSON columns several times faster than the standard library.
    json_options: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if database_url.startswith("sqlite"):
        memory = ":memory:" in database_url
        # A request waits at most the busy timeout for the write lock and the pool timeout for a connection,
        # so a locked file fails fast (503) instead of hanging.
        pool_options: dict[str, Any] = {} if memory else {"pool_timeout": pool_timeout}
        if not memory and max_overflow is not None:
            pool_options.update(pool_size=pool_size, max_overflow=max_overflow)
        engine = create_async_engine(
            database_url,
            **json_options,
            poolclass=NullPool if memory else None,
            connect_args={"timeout": busy_timeout_ms / 1000},
            **pool_options,
            hide_parameters=True,
        )
        _configure_sqlite(engine, busy_timeout_ms, sqlite_synchronous)
        return engine
    # hide_parameters: an error message never carries a row's values (names, request bodies) into a log.
    engine = create_async_engine(
        database_url,
        **json_options,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout,
        connect_args=_postgres_timeouts(statement_timeout, connect_timeout),
        hide_parameters=True,
    )
    event.listen(engine.sync_engine, "handle_error", _database_timeout)
    event.listen(engine.sync_engine, "checkout", _closed_by_the_server)
    return engine


def _closed_by_the_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, an idle timeout) is replaced before it is used.

    asyncpg learns of the close as soon as the event loop reads it from the socket, so the check costs no round
    trip; SQLAlchemy's pre-ping would cost three (BEGIN, a statement, ROLLBACK) at every checkout. A connection
    cut off without a close (a partition) is left to the statement timeout, as with the pre-ping.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


# The client waits this much longer than the server's own statement timeout: a statement the server cancels
# fails with the server's error; only a server that does not answer at all meets the client's timeout.
CLIENT_TIMEOUT_MARGIN_SECONDS = 1.0


def _postgres_timeouts(statement_timeout: float | None, connect_timeout: float | None) -> dict[str, Any]:
    """asyncpg's connect arguments for the timeouts; none given, asyncpg's own defaults apply."""
    arguments: dict[str, Any] = {}
    if connect_timeout is not None:
        arguments["timeout"] = connect_timeout
    if statement_timeout is not None:
        milliseconds = str(round(statement_timeout * 1000))
        arguments["command_timeout"] = statement_timeout + CLIENT_TIMEOUT_MARGIN_SECONDS
        # A transaction whose client vanished mid-way (its replica partitioned off) would hold its row locks
        # until TCP noticed, hours later: the server ends it once it has been idle as long as a statement may run.
        arguments["server_settings"] = {
            "statement_timeout": milliseconds,
            "idle_in_transaction_session_timeout": str(round(max(statement_timeout, 30.0) * 1000)),
        }
    return arguments


class DatabaseTimeout(OperationalError):
    """The database did not answer in time: the server cancelled the statement, or never answered at all."""


@contextmanager
def _database_timeouts() -> Iterator[None]:
    """A connection that could not be opened or pinged in time (asyncpg raises a bare TimeoutError there)."""
    try:
        yield
    except TimeoutError as exc:
        raise DatabaseTimeout(None, None, exc, hide_parameters=True, connection_invalidated=True) from exc


QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout


def _database_timeout(context: ExceptionContext) -> BaseException | None:
    """Timeouts become one error the app answers with 503; a connection that never answered is dropped."""
    error = context.original_exception
    if isinstance(error, TimeoutError):
        # The client's own timeout: whatever the connection was doing, its state is unknown now.
        context.is_disconnect = True
        return DatabaseTimeout(context.statement, None, error, hide_parameters=True, connection_invalidated=True)
    if getattr(error, "sqlstate", None) == QUERY_CANCELED:
        return DatabaseTimeout(context.statement, None, error, hide_parameters=True)
    return None


SQLITE_SYNCHRONOUS = ("FULL", "NORMAL")


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int, synchronous: str) -> None:
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {SQLITE_SYNCHRONOUS}")

    @event.listens_for(engine.sync_engine, "do_connect")
    def _brief_capable(_dialect: Any, _record: Any, _args: Any, parameters: dict[str, Any]) -> None:
        # Connections that brief units of work can run on the event loop's thread (app/sqlite_connection.py).
        parameters["async_creator_fn"] = sqlite_connection.connect

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (pysqlite's default is lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL (the default): WAL is synced at every commit, so an answered decision survives power loss too.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Every transaction that may write takes the write lock first: two writers never both read
        # the same exposure and then both reserve against it. A read opens no transaction: each of its
        # statements reads one snapshot of its own, as every statement does under PostgreSQL's READ
        # COMMITTED, so no read may rely on more (those that need one snapshot read in one statement).
        # Each statement through aiosqlite costs several thread hand-offs, about 0.1 ms each here, but for a
        # brief unit of work's, which run on the event loop's thread once BEGIN has taken the lock.
        options = connection.get_execution_options()
        driver = connection.connection.driver_connection
        if isinstance(driver, sqlite_connection.BriefConnection):
            driver.brief = bool(options.get("creditgate_brief", False))
        if not options.get("creditgate_readonly", False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class HeavyReadsBusy(ServiceUnavailable):
    code, title = "heavy_reads_busy", "Too many exports and what-if replays at once"


# What a refused heavy read is told to wait before it asks again.
HEAVY_READ_RETRY_AFTER_SECONDS = 5
# After each slice of heavy work during which other requests used the database, the event loop is left to them
# for this many times as long: then all heavy reads of a process together take at most a fifth of it.
HEAVY_READ_PAUSE_RATIO = 4.0


class Activity:
    """The light units of work (every transaction and read but the heavy reads'): begun so far, running now."""

    def __init__(self) -> None:
        self.begun = 0
        self.running = 0

    @contextmanager
    def unit(self) -> Iterator[None]:
        self.begun += 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1

    def busy_since(self, begun: int) -> bool:
        return self.running > 0 or self.begun != begun


class HeavyReads:
    """Exports and what-if replays: a few at a time per process, each on a connection of their own small pool.

    However many are asked for at once, the decision path keeps its pool and its event loop: the rest wait
    their turn a short while, then get 503 with Retry-After before anything is sent.
    """

    def __init__(self, engine: AsyncEngine, concurrency: int, queue_seconds: float, others: Activity) -> None:
        self.engine = engine
        self.others = others
        self.concurrency = concurrency
        self.queue_seconds = queue_seconds
        self.in_flight = 0
        self._turns = asyncio.Semaphore(concurrency)
        self._slices = asyncio.Lock()
        self._sessions = async_sessionmaker(
            engine.execution_options(creditgate_readonly=True), expire_on_commit=False, autoflush=False
        )

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """One heavy read's turn, held until the block ends (for an export: until its last byte is sent)."""
        try:
            async with asyncio.timeout(self.queue_seconds):
                await self._turns.acquire()
        except TimeoutError:
            raise HeavyReadsBusy(
                f"{self.concurrency} exports or what-if replays are running; retry shortly",
                headers={"Retry-After": str(HEAVY_READ_RETRY_AFTER_SECONDS)},
            ) from None
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            self._turns.release()

    @asynccontextmanager
    async def paced(self) -> AsyncIterator[None]:
        """One slice of heavy work (a chunk read and formatted, a slice of a replay re-decided).

        The process has one event loop: a heavy read that ran its chunks back to back would keep every decision
        waiting behind them. Heavy reads take turns at their slices; when other requests used the database
        meanwhile, the slice is followed by a pause four times its length, the turn still held. On an otherwise
        idle process they run at full speed.
        """
        async with self._slices:
            begun = self.others.begun
            started = time.perf_counter()
            yield
            elapsed = time.perf_counter() - started
            await asyncio.sleep(elapsed * HEAVY_READ_PAUSE_RATIO if self.others.busy_since(begun) else 0)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short read on the heavy reads' own pool (one chunk of an export or a replay)."""
        with _database_timeouts():
            async with self._sessions() as session, session.begin():
                yield session


def _unit_options(is_sqlite: bool, *, readonly: bool, brief: bool) -> dict[str, Any]:
    """A unit of work's execution options. A read opens no transaction on either database: on PostgreSQL its
    statements run in autocommit, each on a snapshot of its own as under READ COMMITTED anyway, which saves the
    BEGIN and COMMIT round trips."""
    options: dict[str, Any] = {"creditgate_readonly": readonly, "creditgate_brief": brief}
    if readonly and not is_sqlite:
        options["isolation_level"] = "AUTOCOMMIT"
    return options


class Database:
    """The engine and its session factory, built once in the app's lifespan; heavy reads have their own pool."""

    def __init__(
        self,
        database_url: str,
        pool_size: int = 10,
        pool_timeout: float = 10.0,
        busy_timeout_ms: int = 30_000,
        *,
        statement_timeout: float | None = None,
        connect_timeout: float | None = None,
        heavy_reads: int = 2,
        heavy_read_queue_seconds: float = 2.0,
        sqlite_synchronous: str = "FULL",
        sqlite_checkpoint_interval: float = 0.0,
    ) -> None:
        """`sqlite_checkpoint_interval` (seconds, SQLite files only): WAL checkpoints in the background at most this
        often (app/sqlite_checkpoint.py; the app's lifespan runs them); 0 leaves them to the commits."""
        timeouts: dict[str, Any] = {
            "statement_timeout": statement_timeout,
            "connect_timeout": connect_timeout,
            "sqlite_synchronous": sqlite_synchronous,
        }
        self.engine = create_engine(database_url, pool_size, pool_timeout, busy_timeout_ms, **timeouts)
        # Reads never take SQLite's write lock; brief units of work run their statements on the event loop's
        # thread there (app/sqlite_connection.py). On PostgreSQL neither option changes anything.
        self.is_sqlite = database_url.startswith("sqlite")
        self.checkpointer = self._checkpointer(database_url, sqlite_checkpoint_interval)
        self._sessions = {
            (readonly, brief): async_sessionmaker(
                self.engine.execution_options(**_unit_options(self.is_sqlite, readonly=readonly, brief=brief)),
                expire_on_commit=False,
                autoflush=False,
            )
            for readonly in (False, True)
            for brief in (False, True)
        }
        self._read_engines = {
            brief: self.engine.execution_options(**_unit_options(self.is_sqlite, readonly=True, brief=brief))
            for brief in (False, True)
        }
        self.sessions = self._sessions[False, False]
        self.read_sessions = self._sessions[True, False]
        # An in-memory SQLite database exists once per connection: heavy reads must share the engine there.
        heavy_engine = (
            self.engine
            if ":memory:" in database_url
            else create_engine(database_url, heavy_reads, pool_timeout, busy_timeout_ms, max_overflow=0, **timeouts)
        )
        self.activity = Activity()
        self.heavy_reads = HeavyReads(heavy_engine, heavy_reads, heavy_read_queue_seconds, self.activity)
        # SQLite takes one writer at a time. Writers of this process queue here, first come first served,
        # instead of in SQLite's busy handler, which polls with growing sleeps and so makes the tail. The
        # database's own lock (BEGIN IMMEDIATE) still serialises them against every other process.
        self._writer = asyncio.Lock() if self.is_sqlite else None
        self._writer_wait = pool_timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The served app's database, with every bound its settings give."""
        return cls(
            settings.database_url,
            settings.database_pool_size,
            settings.database_pool_timeout_seconds,
            settings.sqlite_busy_timeout_ms,
            statement_timeout=settings.database_statement_timeout_seconds or None,
            connect_timeout=settings.database_connect_timeout_seconds,
            heavy_reads=settings.heavy_read_concurrency,
            heavy_read_queue_seconds=settings.heavy_read_queue_seconds,
            sqlite_synchronous=settings.sqlite_synchronous,
            sqlite_checkpoint_interval=settings.sqlite_checkpoint_interval_ms / 1000,
        )

    def _checkpointer(self, database_url: str, interval: float) -> WalCheckpointer | None:
        """A file's WAL checkpoints taken off the commits, the engine's connections told to leave them to it."""
        path = self.engine.url.database
        if not self.is_sqlite or interval <= 0 or not path or ":memory:" in database_url:
            return None
        checkpointer = WalCheckpointer(path, interval)

        @event.listens_for(self.engine.sync_engine, "connect")
        def _fallback_only(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
            cursor.close()

        @event.listens_for(self.engine.sync_engine, "commit")
        def _committed(_connection: Any) -> None:
            checkpointer.note_commit()

        return checkpointer

    @asynccontextmanager
    async def transaction(self, *, brief: bool = False) -> AsyncIterator[WriteSession]:
        """One unit of work: commits when the block succeeds, rolls back when it raises.

        `brief`: a few short statements (the decision path's), which SQLite runs on the event loop's thread.
        """
        sessions = self._sessions[False, brief]
        if self._writer is None:
            with self.activity.unit(), _database_timeouts():
                async with sessions() as session, session.begin():
                    yield WriteSession(session)
            return
        try:
            async with asyncio.timeout(self._writer_wait):
                await self._writer.acquire()
        except TimeoutError:
            # As a pool that has no connection free in time: the caller gets a 503, never a hang.
            raise PoolTimeout(f"no turn to write within {self._writer_wait} s") from None
        try:
            with self.activity.unit(), _database_timeouts():
                async with sessions() as session, session.begin():
                    yield WriteSession(session)
        finally:
            self._writer.release()

    @asynccontextmanager
    async def read(self, *, brief: bool = False) -> AsyncIterator[ReadSession]:
        """A read-only unit of work; `brief` as for `transaction`."""
        with self.activity.unit(), _database_timeouts():
            async with self._sessions[True, brief]() as session, session.begin():
                yield ReadSession(session)

    @asynccontextmanager
    async def read_connection(self, *, brief: bool = False) -> AsyncIterator[AsyncConnection]:
        """A read-only unit of work on a bare connection, for reads of Core statements only (no ORM session)."""
        with self.activity.unit(), _database_timeouts():
            async with self._read_engines[brief].connect() as connection:
                yield connection

    async def dispose(self) -> None:
        if self.heavy_reads.engine is not self.engine:
            await self.heavy_reads.engine.dispose()
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


_CORE_CONNECTION = "creditgate_core_connection"


async def core(session: Reader) -> AsyncConnection:
    """The unit of work's connection, for statements that need nothing of the ORM: Core tables and column rows.

    The session's `execute` takes every statement through the ORM's compile state and, for an INSERT of a list,
    its bulk-insert path: about a third more CPU per statement than the connection itself, on the hot path's
    dozen statements. The connection is the session's own (same transaction), looked up once per unit of work;
    a bare connection is its own.
    """
    if isinstance(session, AsyncConnection):
        return session
    connection: AsyncConnection | None = session.info.get(_CORE_CONNECTION)
    if connection is None or connection.closed:  # closed: a transaction of the session's that has ended
        connection = session.info[_CORE_CONNECTION] = await session.connection()
    return connection


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def dialect_insert(session: AsyncSession) -> Any:
    """The session's dialect's INSERT construct."""
    return insert_for(dialect_name(session))


def alembic_config(database_url: str | None = None) -> Config:
    from alembic.config import Config

    # The checkout (or the image's working directory) holds alembic.ini and migrations/.
    candidates = (Path(__file__).resolve().parent.parent, Path.cwd())
    root = next((path for path in candidates if (path / "alembic.ini").exists()), candidates[0])
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config
