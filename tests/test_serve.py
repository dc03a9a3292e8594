"""`creditgate serve` as an operator starts it: HOST and PORT, --migrate, a trusted proxy's headers, /version."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.build import package_version

KEY = "serve-test-key-0000000000"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not get ready: {log.read_text()}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server on a fresh SQLite file, bound through HOST and PORT, migrating itself, trusting 127.0.0.1."""
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "CREDITGATE_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/creditgate.db",
        "CREDITGATE_API_KEYS": json.dumps({KEY: ["read"]}),
        "CREDITGATE_TRUSTED_PROXIES": "127.0.0.1",
        "CREDITGATE_LOG_LEVEL": "WARNING",
    }
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--migrate"], env=env, stdout=output, stderr=output
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, url, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


class TestServe:
    def test_binds_the_port_from_port_and_migrates_first(self, served: str) -> None:
        response = httpx.get(f"{served}/v1/decisions", headers={"Authorization": f"Bearer {KEY}"})
        assert response.status_code == 200, response.text

    def test_a_trusted_proxy_s_forwarded_proto_makes_the_console_cookie_secure(self, served: str) -> None:
        forwarded = httpx.get(
            f"{served}/console/sign-in", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        )
        plain = httpx.get(f"{served}/console/sign-in")
        assert "secure" in forwarded.headers["set-cookie"].lower()
        assert "secure" not in plain.headers["set-cookie"].lower()

    def test_version_names_the_installed_package(self, served: str) -> None:
        response = httpx.get(f"{served}/version")
        assert response.status_code == 200
        assert response.json() == {"name": "creditgate", "version": package_version(), "api_version": "1.0.0"}
