"""Pure ASGI middleware: cheap checks before any routing."""

from __future__ import annotations

from array import array
from itertools import accumulate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response
from app.errors import FieldError, InvalidRequest, PayloadTooLarge

# Request bodies of this API are three levels deep; a parser recursing once per level must never see thousands.
MAX_JSON_DEPTH = 32
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'[]{}"')
_AS_STEPS = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")  # +1 and -1 as signed bytes


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


class JsonDepthLimit:
    """Refuses JSON bodies nested deeper than `max_depth` with 422, before any parser recurses into them.

    It buffers the body (BodySizeLimit, outside it, has bounded it) and hands it on in one message.
    """

    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left, or BodySizeLimit refused the body and has answered
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth_exceeds(body, self.max_depth):
            await self._refuse(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"nested deeper than {self.max_depth} levels"
        response = problem_response(
            InvalidRequest.status,
            InvalidRequest.code,
            InvalidRequest.title,
            detail=f"the JSON body is {message}",
            errors=[FieldError(field="body", message=message, type="too_deep")],
            instance=scope.get("path"),
        )
        await response(scope, receive, send)


def json_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """Whether arrays and objects nest deeper than `max_depth`, found with bytes methods that run at C speed.

    Escaped backslashes and quotes go first; then all but brackets and quotes. Two adjacent quotes have no
    bracket between them, inside a string or outside, so they go too; what still lies between a pair of
    quotes is inside a string. The brackets left are summed as +1 and -1. Malformed JSON is left to the
    parser to name.
    """
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = unescaped.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    brackets = b"".join(skeleton.split(b'"')[::2]) if b'"' in skeleton else skeleton
    if len(brackets) <= max_depth:
        return False
    steps = brackets.translate(_AS_STEPS)
    if b"\x01" * (max_depth + 1) in steps:  # the usual attack, found without summing
        return True
    return max(accumulate(array("b", steps))) > max_depth


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type: bytes = value.split(b";", 1)[0].strip().lower()
            return media_type.endswith((b"/json", b"+json"))
    return False
