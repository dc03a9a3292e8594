"""A fake Creditsafe Connect for httpx.MockTransport: the three documented operations, with failure knobs."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).parent / "fixtures"
BASE_URL = "https://connect.creditsafe.test/v1"
USERNAME = "creditgate@example.com"
PASSWORD = "connect-password-for-tests"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"creditsafe_{name}.json").read_text())


class FakeCreditsafe:
    """Knows every registration number except all zeros; `report_requests` counts the paid calls."""

    def __init__(self) -> None:
        self.auth_requests = 0
        self.search_requests = 0
        self.report_requests = 0
        self.tokens_issued: list[str] = []
        self.revoked: set[str] = set()
        self.hang = False  # the report operation never answers
        self.latency = 0.0  # seconds before the report answers
        self.fail_status: int | None = None  # the report operation answers this status...
        self.fail_times = 0  # ...this many times, then succeeds (-1: always)
        self.malformed = False
        self.report_name = "report_b"
        self.business_name: str | None = None  # overrides the fixture's company name

    def revoke_tokens(self) -> None:
        """The tokens issued so far expire: the next request with one gets 401."""
        self.revoked.update(self.tokens_issued)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        if request.method == "POST" and path == "/authenticate":
            return self._authenticate(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens_issued or token in self.revoked:
            return httpx.Response(401, json=fixture("invalid_token"))
        if request.method == "GET" and path == "/companies":
            return self._search(request)
        if request.method == "GET" and path.startswith("/companies/"):
            return await self._report(path.removeprefix("/companies/"))
        return httpx.Response(404, json={"message": "Not found"})

    def _authenticate(self, request: httpx.Request) -> httpx.Response:
        self.auth_requests += 1
        body = json.loads(request.content)
        if body != {"username": USERNAME, "password": PASSWORD}:
            return httpx.Response(401, json={"message": "Invalid credentials"})
        token = f"{fixture('authenticate')['token']}.{len(self.tokens_issued)}"
        self.tokens_issued.append(token)
        return httpx.Response(200, json={"token": token})

    def _search(self, request: httpx.Request) -> httpx.Response:
        self.search_requests += 1
        registration_number = request.url.params.get("regNo", "")
        if not registration_number.strip("0"):
            return httpx.Response(200, json=fixture("search_no_results"))
        found = fixture("search_found")
        hit = found["companies"][0]
        hit["regNo"] = registration_number
        hit["country"] = request.url.params.get("countries", "NL")
        hit["id"] = f"{hit['country']}-X-{registration_number}0000"
        return httpx.Response(200, json=found)

    async def _report(self, connect_id: str) -> httpx.Response:
        self.report_requests += 1
        if self.hang:
            await asyncio.sleep(3600)
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.fail_status is not None and self.fail_times != 0:
            self.fail_times -= 1
            return httpx.Response(self.fail_status, json={"message": "unavailable"})
        if self.malformed:
            return httpx.Response(
                200, content=b'{"report": {"creditScore": ', headers={"content-type": "application/json"}
            )
        report = copy.deepcopy(fixture(self.report_name))
        report["companyId"] = report["report"]["companyId"] = connect_id
        if self.business_name is not None:
            report["report"]["companySummary"]["businessName"] = self.business_name
        return httpx.Response(200, json=report)
