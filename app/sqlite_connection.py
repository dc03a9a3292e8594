"""SQLite connections whose brief units of work run their statements on the event loop's own thread.

aiosqlite runs every call on a thread of the connection's own: opening a cursor, executing, fetching, closing,
each handed to that thread and its answer handed back to the event loop. A decision's few dozen such calls each
cost two thread wake-ups, more than the statements themselves (tens of microseconds each, from the page cache).

A unit of work marked brief (`Database.transaction(brief=True)`, `Database.read(brief=True)`: the decision path's
short reads and writes) runs its statements directly on the calling thread instead. Nothing there can wait:
in a write transaction the connection already holds SQLite's write lock (BEGIN IMMEDIATE), and in WAL mode a read
never waits for a writer. What can wait still goes to the driver's thread, so the event loop never sleeps in
SQLite: BEGIN (the write lock, up to the busy timeout), COMMIT (the fsync, a checkpoint) and ROLLBACK, opening
and closing the connection. Every other unit of work (exports, console pages, imports) is unchanged.
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

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not _immediate(fn, args, brief=self.brief):
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


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
