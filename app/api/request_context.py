"""Outermost ASGI middleware: request id in and out, one access line, the HTTP metrics."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response
from app.observability.logging import end_context, request_id_from, start_context
from app.observability.metrics import record_http_request

logger = logging.getLogger("creditgate.access")
_QUIET_ROUTES = ("/health/live", "/health/ready", "/metrics")


class RequestContext:
    """Every response carries X-Request-ID (the caller's if sane, else a new one), errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"x-request-id"), None)
        request_id = request_id_from(header)
        token = start_context(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error")
            if response_started:
                raise
            response = problem_response(500, "internal_error", "Internal error", instance=scope.get("path"))
            await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            record_http_request(scope["method"], route, status, seconds)
            level = logging.DEBUG if route in _QUIET_ROUTES and status < 400 else logging.INFO
            logger.log(
                level,
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )
            end_context(token)
