"""Read and write sessions are different types: a write or a lock cannot be handed a read session, which on
SQLite would run without BEGIN IMMEDIATE and so without the write lock."""

from __future__ import annotations

from pathlib import Path

from tests.test_services import mypy_errors

SNIPPET = """\
from datetime import datetime

from app.console import repository
from app.db import Database


async def sign_out(database: Database, now: datetime) -> None:
    async with database.transaction() as session:
        await repository.end_session(session, "nonce", now, now)
    async with database.read() as session:
        await repository.end_session(session, "nonce", now, now)
        await repository.session_ended(session, "nonce")
"""


def test_a_read_session_handed_to_a_write_is_a_type_error(tmp_path: Path) -> None:
    errors = mypy_errors(tmp_path, SNIPPET, "read_session_to_a_write")
    assert sorted(errors) == [11], errors
    assert '"ReadSession"; expected "WriteSession"' in errors[11]
