"""SQLite's WAL checkpoints in the background, off the path of the commit a decision waits for.

In WAL mode SQLite copies the log back into the database file (a checkpoint) when a commit leaves the log over
1,000 pages, and it does so inside that commit: the answer of whichever decision made that commit waits for
the copy and two more syncs of the disk, several milliseconds where a commit otherwise takes about one. One
commit in thirty or so paid it, which made the tail of a lone decision's latency.

`WalCheckpointer` runs a passive checkpoint on a connection of its own, on a worker thread, at most once per
interval and only after something was committed. A passive checkpoint takes no lock a writer or reader waits
for: it copies what no reader still needs and leaves the rest to the next round. The served app's connections
keep SQLite's own checkpoint at commit, with a far higher threshold, as a fallback should this one fall behind
(a reader holding an old snapshot for a long time, or the thread failing). Another process on the same file
(the command line, a second replica) checkpoints with its own connections as before.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from dataclasses import dataclass

from app.observability.metrics import record_checkpoint, record_checkpoint_failure

logger = logging.getLogger("creditgate.sqlite")

# The served app's connections still checkpoint at commit once the log holds this many pages (~40 MB at 4 KiB):
# only reached when the background checkpoints fall behind.
FALLBACK_CHECKPOINT_PAGES = 10_000


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What `PRAGMA wal_checkpoint(PASSIVE)` answered: pages in the log, and how many of them are copied back."""

    busy: bool
    log_pages: int
    copied_pages: int


class WalCheckpointer:
    def __init__(self, path: str, interval_seconds: float) -> None:
        self.path = path
        self.interval = interval_seconds
        self.checkpoints = 0  # passive checkpoints run
        self.last: Checkpoint | None = None
        self._committed = threading.Event()
        self._lock = threading.Lock()  # the connection is used by one thread at a time, and closed by none in use
        self._connection: sqlite3.Connection | None = None
        self._failing = False

    def note_commit(self) -> None:
        """Something was committed: the next round has pages to copy (the engine's commit event calls it)."""
        self._committed.set()

    async def run(self) -> None:
        """Until cancelled: a checkpoint each interval in which something was committed."""
        try:
            while True:
                await asyncio.sleep(self.interval)
                if self._committed.is_set():
                    self._committed.clear()
                    await asyncio.to_thread(self.checkpoint)
        finally:
            self.close()

    def checkpoint(self) -> Checkpoint | None:
        """One passive checkpoint (blocking: run it on a worker thread). A failure is logged, never raised."""
        with self._lock:
            try:
                if self._connection is None:
                    # Autocommit, and usable from whichever worker thread runs the next round (never two at once).
                    self._connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:
                record_checkpoint_failure()
                if not self._failing:  # once per run of failures, not every interval
                    logger.warning("background WAL checkpoint failed (%s); commits checkpoint as a fallback", exc)
                self._failing = True
                return None
            self._failing = False
            self.checkpoints += 1
            self.last = Checkpoint(bool(row[0]), int(row[1]), int(row[2]))
            record_checkpoint(self.last.log_pages, self.last.copied_pages)
            return self.last

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
