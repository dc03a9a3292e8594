"""schemathesis against a real uvicorn server: the document describes exactly what the service accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.reliability.contract import run_schemathesis
from tests.reliability.server import Server

# Test cases per operation and phase; the stateful phase runs as many scenarios. About 2-4 minutes per database.
MAX_EXAMPLES = 25


@pytest.mark.slow
class TestContractAgainstTheServer:
    def test_schemathesis_finds_no_failure_with_every_check_and_phase(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        server = Server(
            database_url,
            tmp_path / "server.log",
            decision_rate_limit="0",
            # Generated targets are names and addresses of any kind, and no delivery is ever attempted.
            webhooks_allow_private_targets="true",
            webhooks_dispatch_interval_seconds="0",
        )
        server.start()
        try:
            run = run_schemathesis(server.base_url, tmp_path, MAX_EXAMPLES)
        finally:
            server.stop()
        print(f"\nschemathesis on {database_url.split(':', 1)[0]}: {run.seconds:.0f} s\n{run.summary}")
        assert run.returncode == 0, run.output[-20000:]
