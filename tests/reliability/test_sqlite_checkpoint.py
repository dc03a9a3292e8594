"""SQLite's WAL checkpoints run in the background, so no decision's commit waits for one."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.observability.metrics import REGISTRY
from app.services import services_of
from app.settings import Settings
from app.sqlite_checkpoint import FALLBACK_CHECKPOINT_PAGES, WalCheckpointer
from tests.conftest import auth, order_body, running_app

# SQLite's own threshold, which connections keep when nothing checkpoints in the background.
SQLITE_DEFAULT_CHECKPOINT_PAGES = 1000


@pytest.fixture
def wal_file(tmp_path: Path) -> Path:
    """A WAL database whose writer never checkpoints at commit, with a table to write to."""
    path = tmp_path / "wal.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
    return path


def wal_pages() -> float | None:
    return REGISTRY.get_sample_value("creditgate_sqlite_wal_pages")


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Polls until the condition holds; fails the test when it has not within `seconds`."""
    for _ in range(round(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still not so after {seconds} s")


def write(path: Path, rows: int) -> sqlite3.Connection:
    """Rows committed one by one on a connection that leaves its log alone; the caller closes it."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA wal_autocheckpoint=0")
    for _ in range(rows):
        connection.execute("INSERT INTO t (v) VALUES (randomblob(3000))")
    return connection


class TestWalCheckpointer:
    def test_copies_every_committed_page_back(self, wal_file: Path) -> None:
        checkpointer = WalCheckpointer(str(wal_file), 1.0)
        writer = write(wal_file, 20)
        try:
            done = checkpointer.checkpoint()
        finally:
            writer.close()
            checkpointer.close()
        assert done is not None
        assert done.log_pages >= 20
        assert done.copied_pages == done.log_pages
        assert checkpointer.checkpoints == 1

    def test_never_waits_for_a_reader_it_copies_up_to_its_snapshot(self, wal_file: Path) -> None:
        checkpointer = WalCheckpointer(str(wal_file), 1.0)
        writer = write(wal_file, 5)
        reader = sqlite3.connect(wal_file, isolation_level=None)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM t").fetchone()  # holds this snapshot until it ends
            for _ in range(10):
                writer.execute("INSERT INTO t (v) VALUES (randomblob(3000))")
            done = checkpointer.checkpoint()
            assert done is not None
            assert 0 < done.copied_pages < done.log_pages  # what the reader still needs stays in the log
            assert wal_pages() == done.log_pages - done.copied_pages
            reader.execute("COMMIT")
            after = checkpointer.checkpoint()
            assert after is not None
            assert after.copied_pages == after.log_pages
            assert wal_pages() == 0
        finally:
            reader.close()
            writer.close()
            checkpointer.close()

    def test_a_failure_is_logged_once_and_never_raised(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        checkpointer = WalCheckpointer(str(tmp_path), 1.0)  # a directory: SQLite cannot open it
        failures = REGISTRY.get_sample_value("creditgate_sqlite_checkpoint_failures_total") or 0.0
        with caplog.at_level(logging.WARNING, logger="creditgate.sqlite"):
            assert checkpointer.checkpoint() is None
            assert checkpointer.checkpoint() is None
        assert REGISTRY.get_sample_value("creditgate_sqlite_checkpoint_failures_total") == failures + 2
        assert [record.message for record in caplog.records if "checkpoint failed" in record.message] != []
        assert len(caplog.records) == 1
        assert checkpointer.checkpoints == 0

    async def test_runs_only_after_a_commit_and_closes_when_cancelled(self, wal_file: Path) -> None:
        checkpointer = WalCheckpointer(str(wal_file), 0.01)
        task = asyncio.create_task(checkpointer.run())
        try:
            await asyncio.sleep(0.1)
            assert checkpointer.checkpoints == 0  # nothing committed: nothing to copy, no round run
            write(wal_file, 3).close()
            checkpointer.note_commit()
            await until(lambda: checkpointer.checkpoints > 0)
            assert checkpointer.checkpoints == 1
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert checkpointer._connection is None


async def autocheckpoint_pages(settings: Settings) -> int:
    async with running_app(settings) as app, services_of(app).database.transaction() as session:
        return int((await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one())


class TestServedApp:
    async def test_decisions_commits_are_checkpointed_in_the_background(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        quick = settings.model_copy(update={"sqlite_checkpoint_interval_ms": 20})
        async with running_app(quick) as app:
            checkpointer = services_of(app).database.checkpointer
            if not settings.is_sqlite:
                assert checkpointer is None  # PostgreSQL checkpoints on its own
                return
            assert checkpointer is not None
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http:
                for number in range(3):
                    response = await http.post(
                        "/v1/decisions", json=order_body(order_id=f"SO-CKPT-{number}"), headers=auth()
                    )
                    assert response.status_code == 201, response.text
            await until(lambda: (last := checkpointer.last) is not None and last.copied_pages == last.log_pages > 0)
        assert await autocheckpoint_pages(quick) == FALLBACK_CHECKPOINT_PAGES

    async def test_zero_leaves_checkpoints_to_the_commits(self, settings: Settings, engine: AsyncEngine) -> None:
        at_commit = settings.model_copy(update={"sqlite_checkpoint_interval_ms": 0})
        async with running_app(at_commit) as app:
            assert services_of(app).database.checkpointer is None
        if settings.is_sqlite:  # PostgreSQL has no such pragma: that no checkpointer runs is all there is to see
            assert await autocheckpoint_pages(at_commit) == SQLITE_DEFAULT_CHECKPOINT_PAGES
