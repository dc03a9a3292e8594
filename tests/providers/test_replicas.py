"""Two app processes on one database, both buying from one counting fake Connect over real HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import KEYS, auth, order_body
from tests.providers.fake_creditsafe import PASSWORD, USERNAME, fixture

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(18200, 18300)  # this suite's share of the machine's ports


class CountingConnect(ThreadingHTTPServer):
    """Connect's three operations over HTTP; the report takes 300 ms and every purchase is counted."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _ConnectHandler)
        self.lock = threading.Lock()
        self.report_requests = 0


class _ConnectHandler(BaseHTTPRequestHandler):
    server: CountingConnect

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._answer(200, fixture("authenticate"))

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/v1/companies":
            found = fixture("search_found")
            found["companies"][0]["regNo"] = parse_qs(url.query)["regNo"][0]
            self._answer(200, found)
            return
        with self.server.lock:
            self.server.report_requests += 1
        time.sleep(0.3)
        self._answer(200, fixture("report_b"))

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _free_ports(count: int) -> list[int]:
    ports = []
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError("no free ports in 18200-18299")


@pytest.fixture
def connect() -> Iterator[CountingConnect]:
    server = CountingConnect(_free_ports(1)[0])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def replicas(engine: AsyncEngine, database_url: str, connect: CountingConnect) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CREDITGATE_DATABASE_URL": database_url,
        "CREDITGATE_API_KEYS": json.dumps(KEYS),
        "CREDITGATE_PROVIDER": "creditsafe",
        "CREDITGATE_CREDITSAFE_BASE_URL": f"http://127.0.0.1:{connect.server_address[1]}/v1",
        "CREDITGATE_CREDITSAFE_USERNAME": USERNAME,
        "CREDITGATE_CREDITSAFE_PASSWORD": PASSWORD,
        "CREDITGATE_DECISION_BUDGET_MS": "10000",
        "CREDITGATE_PROVIDER_TIMEOUT_MS": "5000",
    }
    ports = _free_ports(2)  # the fake Connect's port is taken by now
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:app_factory", "--host", "127.0.0.1"]
    processes = [
        subprocess.Popen([*command, "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)  # noqa: S603
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            _wait_until_live(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def _wait_until_live(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


@pytest.mark.slow
async def test_a_hundred_decisions_across_two_replicas_make_one_paid_call(
    replicas: list[str], connect: CountingConnect
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:

        async def decide(n: int) -> dict[str, Any]:
            body = order_body("1250.00", "12345672", order_id=f"SO-{n}")
            response = await http.post(f"{replicas[n % 2]}/v1/decisions", json=body, headers=auth())
            assert response.status_code == 201, response.text
            result: dict[str, Any] = response.json()
            return result

        decisions = await asyncio.gather(*(decide(n) for n in range(100)))
        # Each replica writes its cache-hit counts within a second: ask until both have.
        for _ in range(50):
            usage = (await http.get(f"{replicas[0]}/v1/providers/usage", headers=auth())).json()["items"]
            if usage and usage[0]["cache_hits"] == 99:
                break
            await asyncio.sleep(0.1)
    assert connect.report_requests == 1
    assert Counter(decision["report"]["source"] for decision in decisions) == {"fresh": 1, "cache": 99}
    assert [(day["provider"], day["calls"], day["cache_hits"]) for day in usage] == [("creditsafe", 1, 99)]
