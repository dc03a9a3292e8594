"""SQLite connections whose brief units of work run their statements on the event loop's own thread.

aiosqlite runs every call on a thread of the connection's own: opening a cursor, executing, fetching, closing,
each handed to that thread and its answer handed back to the event loop. A decision's few dozen such calls each
cost two thread wake-ups, more than the statements themselves (tens of microseconds each, from the page cache).

A unit of work marked brief (`Database.transaction(brief=True)`, `Database.read(brief=True)`: the decision path's
short reads and writes) runs its statements directly on the calling thread instead. Nothing there can wait:
in a write transaction the connection already holds SQLite's write lock (BEGIN IMMEDIATE), and in WAL mode a read
never waits for a writer. What can wait still goes to the driver's thread, so the event loop never sleeps in
SQLite: COMMIT (the fsync), ROLLBACK, opening and closing the connection, and a BEGIN that has to wait for the
write lock. A brief unit's BEGIN IMMEDIATE is first tried on the event loop's thread with no busy timeout: when
no other connection holds the lock (the process's own writers queue before they begin), it is taken at once,
without a hand-off; when one does, the attempt fails at once and BEGIN goes to the driver's thread, to wait up
to the busy timeout there. Every other unit of work (exports, console pages, imports) is unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite

# The statements that may wait for the write lock or the disk: they keep going to the driver's thread.
_WAITING_STATEMENTS = ("BEGIN", "COMMIT", "END", "ROLLBACK", "PRAGMA", "VACUUM")
# The cursor's calls that only read what the statement produced, or release it.
_CURSOR_CALLS = frozenset({"fetchone", "fetchmany", "fetchall", "close"})


class BriefConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs a brief unit of work's calls on the event loop's thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        # Set at the start of each unit of work (app/db.py's begin listener), for its whole length.
        self.brief = False
        self._busy_timeout_ms: int | None = None  # the connection's own, read once

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.brief and _begins_writing(fn, args):
            began, result = self._begin_at_once(fn, args, kwargs)
            if began:
                return result
        if not _immediate(fn, args, brief=self.brief):
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def _begin_at_once(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
        """BEGIN IMMEDIATE on this thread if the write lock is free now; (False, None) if it would have to wait."""
        connection = self._connection
        if not self._running or connection is None:
            return False, None
        if self._busy_timeout_ms is None:
            self._busy_timeout_ms = int(connection.execute("PRAGMA busy_timeout").fetchone()[0])
        connection.execute("PRAGMA busy_timeout=0")
        try:
            return True, fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            return False, None  # held by another connection: wait for it on the driver's thread
        finally:
            connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")


def _immediate(fn: Callable[..., Any], args: tuple[Any, ...], *, brief: bool) -> bool:
    """Whether a call can run on the caller's thread: it neither takes a lock nor touches the disk's sync."""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if isinstance(owner, sqlite3.Connection) and name in ("commit", "rollback") and not owner.in_transaction:
        # Nothing to end (the pool's rollback as a connection comes back after a commit): SQLite does nothing.
        return True
    if not brief:
        return False
    if isinstance(owner, sqlite3.Cursor):
        if name in _CURSOR_CALLS:
            return True
        return name in ("execute", "executemany") and _statement_is_brief(args)
    if isinstance(owner, sqlite3.Connection):
        if name == "cursor":
            return True
        return name in ("execute", "executemany") and _statement_is_brief(args)
    return False  # connecting, committing, closing and anything else stay on the driver's thread


def _begins_writing(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    """Whether the call is a cursor's `execute` of BEGIN IMMEDIATE (app/db.py's begin listener issues it so)."""
    if not isinstance(getattr(fn, "__self__", None), sqlite3.Cursor) or getattr(fn, "__name__", "") != "execute":
        return False
    return bool(args) and isinstance(args[0], str) and args[0].lstrip()[:15].upper() == "BEGIN IMMEDIATE"


def _statement_is_brief(args: tuple[Any, ...]) -> bool:
    if not args or not isinstance(args[0], str):
        return False
    return not args[0].lstrip()[:8].upper().startswith(_WAITING_STATEMENTS)


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> BriefConnection:
    """As `aiosqlite.connect`, for a connection that brief units of work may use from the event loop's thread."""
    # The connection is opened on the driver's thread and used from both; SQLite's serialized mode allows it,
    # and the two never use it at once (each call is awaited before the next).
    kwargs["check_same_thread"] = False
    connection = BriefConnection(partial(sqlite3.connect, database, **kwargs), iter_chunk_size)
    connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite dialect does: never hold up exit
    return connection
