"""The browser tests' harness: the real app served by uvicorn, seeded through its API, and a headless Chromium.

Chromium is Debian's package (`make e2e-deps`), driven by Playwright through `executable_path`; Playwright
never downloads a browser here. Screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, sync_playwright

from tests.conftest import _reset_postgres as reset_postgres

CHROMIUM = "/usr/bin/chromium"
PORT = int(os.environ.get("CREDITGATE_E2E_PORT", "18801"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

KEYS = {
    "e2e-key-all-scopes-000000000": ["read", "review", "admin", "decide", "receivables", "sales"],
    "e2e-key-read-only-0000000000": ["read"],
    "e2e-key-second-reviewer-00000": ["read", "review"],
}
ALL_KEY, READ_KEY, SECOND_REVIEWER = list(KEYS)


@dataclass(frozen=True)
class Served:
    base_url: str
    customer_id: str  # a customer with invoices and decisions of every outcome


def chromium(profile: Path) -> Iterator[BrowserContext]:
    """A fresh headless Chromium profile at laptop width, closed when the test is done."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport=LAPTOP
        )
        try:
            yield context
        finally:
            context.close()


def serve(tmp: Path) -> Iterator[Served]:
    database_url = os.environ.get("CREDITGATE_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp / 'console-e2e.db'}"
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "CREDITGATE_DATABASE_URL": database_url,
        "CREDITGATE_API_KEYS": json.dumps(KEYS),
        "PYTHONPATH": str(root),
    }
    if database_url.startswith("postgresql"):
        asyncio.run(reset_postgres(database_url))  # the suite's own database: every run starts empty
    subprocess.run([sys.executable, "-m", "app.cli", "migrate"], env=env, cwd=root, check=True, capture_output=True)
    log = (tmp / "server.log").open("wb")
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:app_factory", "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(PORT)], env=env, cwd=root, stdout=log, stderr=log)  # noqa: S603
    base_url = f"http://127.0.0.1:{PORT}"
    try:
        _wait_ready(process, base_url, tmp / "server.log")
        yield Served(base_url, _seed(base_url))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log_file: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server stopped:\n" + log_file.read_text())
        try:
            if httpx.get(base_url + "/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready:\n" + log_file.read_text())


def _seed(base_url: str) -> str:
    """A customer with an overdue and a current invoice, and decisions of each outcome (by registration number)."""
    customer_id = f"C-E2E-{uuid.uuid4().hex[:6]}"
    headers = {"Authorization": f"Bearer {ALL_KEY}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        master = {"name": "Bakkerij Jansen B.V.", "country": "NL", "registration_number": "12345670"}
        _ok(client.put(f"/v1/customers/{customer_id}", json=master))
        # Orders accepted on credit first (their reservations raise the exposure), then invoices fall overdue
        # and later orders ask prepayment: the exposure curve has a history to draw.
        for number in range(6):
            _ok(client.post("/v1/decisions", json=_order(customer_id, number, "12345670", f"{900 + 350 * number}.00")))
        today = date.today()
        for number, (amount, due_in) in enumerate([("4200.00", -45), ("1800.00", -10), ("2500.00", 20)]):
            due = today + timedelta(days=due_in)
            invoice = {
                "currency": "EUR",
                "amount": amount,
                "open_amount": amount,
                "issue_date": str(min(due, today) - timedelta(days=30)),
                "due_date": str(due),
            }
            _ok(client.put(f"/v1/customers/{customer_id}/invoices/INV-{number}", json=invoice))
        for number in range(6, 12):
            _ok(client.post("/v1/decisions", json=_order(customer_id, number, "12345670", f"{900 + 350 * number}.00")))
        # Other customers: a high-risk one sent to review, an insolvent one rejected.
        for number, registration in enumerate(["12345678", "12345679", "12345678"]):
            _ok(
                client.post(
                    "/v1/decisions", json=_order(f"{customer_id}-{number}", 100 + number, registration, "9000.00")
                )
            )
    return customer_id


def _order(customer_id: str, number: int, registration: str, amount: str) -> dict[str, Any]:
    return {
        "order": {"id": f"SO-{customer_id}-{number}", "amount": amount, "currency": "EUR"},
        "customer": {
            "id": customer_id,
            "name": "Bakkerij Jansen B.V.",
            "country": "NL",
            "registration_number": registration,
        },
    }


def _ok(response: httpx.Response) -> None:
    assert response.status_code in (200, 201), response.text
