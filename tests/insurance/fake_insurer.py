"""A credit insurer in process, speaking the JSON protocol of docs/insurance.md through an httpx transport:
it takes limit requests, investigates for a number of polls (its delay), then answers as the test told it."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class FakeInsurer:
    answer: dict[str, Any] = field(default_factory=lambda: {"decision": "approved"})
    pending_polls: int = 1  # polls answered "pending" before the answer: the insurer's delay
    down: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(503, json={"error": "maintenance"})
        if request.headers.get("authorization") != "Bearer insurer-key":
            return httpx.Response(401)
        path = request.url.path
        if request.method == "POST" and path == "/api/limit-requests":
            body = json.loads(request.content)
            insurer_id = "INS-" + uuid.uuid4().hex[:8]
            self.received.append(body | {"insurer_id": insurer_id})
            self.polls[insurer_id] = 0
            return httpx.Response(202, json={"id": insurer_id})
        if request.method == "GET" and path.startswith("/api/limit-requests/"):
            insurer_id = path.rsplit("/", 1)[1]
            if insurer_id not in self.polls:
                return httpx.Response(404)
            self.polls[insurer_id] += 1
            if self.polls[insurer_id] <= self.pending_polls:
                return httpx.Response(200, json={"status": "pending"})
            return httpx.Response(200, json={"status": "answered", "answer": self.answer})
        return httpx.Response(404)
