"""Pure ASGI middleware: cheap checks before any routing."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import FieldError, PayloadTooLarge, problem_response


class BodySizeLimit:
    """Refuses bodies over `max_bytes` with 413, by Content-Length or while streaming.

    `larger` gives a few paths (bulk sync) their own, higher limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope.get("path", ""), self.default_max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > max_bytes:
                    await self._refuse(scope, receive, send, max_bytes)
                    return
        received = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Answer 413 now; the app sees a disconnect and whatever it answers is dropped.
                    refused = True
                    await self._refuse(scope, receive, send, max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        response = problem_response(
            PayloadTooLarge.status,
            PayloadTooLarge.code,
            PayloadTooLarge.title,
            detail=f"bodies are limited to {max_bytes} bytes",
            errors=[FieldError(field="body", message=f"longer than {max_bytes} bytes", type="too_large")],
            instance=scope.get("path"),
        )
        await response(scope, receive, send)
