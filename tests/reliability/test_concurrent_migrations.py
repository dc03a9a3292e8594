"""Replicas that start together on an empty database migrate it once, in turn; none crashes, all end up ready."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.db import alembic_config, create_engine
from tests.conftest import KEYS, _reset_postgres
from tests.reliability.server import ROOT, SERVER_PORT, Server

REPLICAS = 4


def _migrate_together(database_url: str, log_dir: Path) -> list[tuple[int, str]]:
    """`creditgate migrate` in REPLICAS processes started at once; each one's exit code and output."""
    env = dict(os.environ)
    env.update({"CREDITGATE_DATABASE_URL": database_url, "CREDITGATE_API_KEYS": json.dumps(KEYS)})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    logs = [log_dir / f"migrate-{index}.log" for index in range(REPLICAS)]
    processes = []
    for log in logs:
        with log.open("wb") as output:
            command_line = [sys.executable, "-m", "app.cli", "migrate"]
            processes.append(subprocess.Popen(command_line, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT))  # noqa: S603
    codes = [process.wait(timeout=120) for process in processes]
    return [(code, log.read_text()) for code, log in zip(codes, logs, strict=True)]


async def _stored_revisions(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
    finally:
        await engine.dispose()


async def _ready(client: httpx.AsyncClient) -> int:
    return (await client.get("/health/ready", timeout=10)).status_code


@pytest.mark.slow
class TestReplicasMigratingTogether:
    async def test_migrations_on_an_empty_database_take_turns_and_readiness_follows(
        self, database_url: str, tmp_path: Path
    ) -> None:
        if database_url.startswith("postgresql"):
            await _reset_postgres(database_url)  # empty; migrated back to head below, whatever happens
            url = database_url
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / 'replicas.db'}"
        server = Server(url, tmp_path / "server.log", port=SERVER_PORT + 5)
        try:
            await asyncio.to_thread(server.start)
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                assert await _ready(client) == 503  # up on an empty database, and honest about it
                started = time.monotonic()
                results = await asyncio.to_thread(_migrate_together, url, tmp_path)
                print(f"{REPLICAS} replicas migrated together in {time.monotonic() - started:.1f} s")
                for code, output in results:
                    assert code == 0, output[-3000:]
                heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
                assert await _stored_revisions(url) == heads
                assert await _ready(client) == 200
        finally:
            await asyncio.to_thread(server.stop)
            if url == database_url:
                config = alembic_config(url)
                config.attributes["configure_logger"] = False
                await asyncio.to_thread(command.upgrade, config, "head")
