"""Export clients in a process of their own: `python -m tests.reliability.export_load BASE_URL CLIENTS ROWS SECONDS`.

A hundred streaming clients cost their process real CPU; run beside the test's own decision client they would
slow that client down and the figures would measure the client, not the server. Prints one JSON line: the
statuses, and what came back broken or unexpected.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter

import httpx

from tests.conftest import auth, key_for


class Exports:
    """Clients asking for the whole history as CSV, again and again, until the time is up."""

    def __init__(self, base_url: str, rows: int, seconds: float) -> None:
        self.base_url = base_url
        self.rows = rows
        self.deadline = time.monotonic() + seconds
        self.statuses: Counter[int] = Counter()
        self.broken: list[str] = []
        self.unexpected: list[str] = []

    async def run(self, clients: int) -> None:
        await asyncio.gather(*(self._client() for _ in range(clients)))

    async def _client(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(120.0)) as client:
            while time.monotonic() < self.deadline:
                await self._export(client)

    async def _export(self, client: httpx.AsyncClient) -> None:
        async with client.stream("GET", "/v1/decisions/export", headers=auth(key_for("read"))) as response:
            lines, last = 0, b""
            try:
                async for chunk in response.aiter_raw():
                    lines += chunk.count(b"\n")
                    last = chunk or last
            except httpx.HTTPError as exc:
                self.broken.append(f"{response.status_code} after {lines} lines: {exc!r}")
                return
        self.statuses[response.status_code] += 1
        # Every stored row and the header, whole (decisions taken meanwhile may add rows).
        if response.status_code == 200 and (lines < self.rows + 1 or not last.endswith(b"\r\n")):
            self.broken.append(f"200 with {lines} lines of at least {self.rows + 1}")
        elif response.status_code == 503:
            if not response.headers.get("retry-after"):
                self.unexpected.append("503 without Retry-After")
            # A client that heeds Retry-After, in a hurry, with the jitter every retrying client needs.
            await asyncio.sleep(random.uniform(0.5, 1.5))
        elif response.status_code != 200:
            self.unexpected.append(str(response.status_code))


def main() -> None:
    base_url, clients, rows, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    exports = Exports(base_url, rows, seconds)
    asyncio.run(exports.run(clients))
    print(json.dumps({"statuses": exports.statuses, "broken": exports.broken, "unexpected": exports.unexpected}))


if __name__ == "__main__":
    main()
