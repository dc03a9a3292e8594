"""A real uvicorn server in its own process, on 127.0.0.1, that tests can start, kill -9 and restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import KEYS

ROOT = Path(__file__).resolve().parents[2]
# This suite's ports (127.0.0.1 only): servers from 18610, the database proxy at 18690.
SERVER_PORT = 18610
PROXY_PORT = 18690


class Server:
    """`uvicorn app.main:app_factory` with the test keys; `kill()` is SIGKILL, nothing is flushed or closed."""

    def __init__(self, database_url: str, log_file: Path, port: int = SERVER_PORT, **settings: str) -> None:
        self.database_url = database_url
        self.log_file = log_file
        self.port = port
        self.settings = settings
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        env = dict(os.environ)
        env.update(
            {
                "CREDITGATE_DATABASE_URL": self.database_url,
                "CREDITGATE_API_KEYS": json.dumps(KEYS),
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            }
        )
        env.update({f"CREDITGATE_{name.upper()}": value for name, value in self.settings.items()})
        command = [sys.executable, "-m", "uvicorn", "app.main:app_factory", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log_file.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/health/live", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start: {self.log_file.read_text()[-3000:]}")

    def kill(self) -> None:
        """kill -9: the process gets no chance to finish a request, commit or close a connection."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
