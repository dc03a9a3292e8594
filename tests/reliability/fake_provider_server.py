"""A fake Creditsafe Connect on a real socket (127.0.0.1), whose report operation misbehaves on demand."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from tests.providers.fake_creditsafe import FakeCreditsafe

# What the report operation does: answer, or one of the faults a real provider shows.
FAULTS = ("slow", "reset", "error_5xx", "malformed", "oversized", "trickle")
OVERSIZED_BYTES = 20 * 1024 * 1024


class FakeProviderServer:
    """HTTP/1.1 over asyncio streams, so a fault can be a reset socket or a body that never ends."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.fake = FakeCreditsafe()
        self.fault: str | None = None
        self.faults_served = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, OSError):
            while request := await _read_request(reader):
                if not await self._answer(request, writer):
                    return
        writer.transport.abort()

    async def _answer(self, request: httpx.Request, writer: asyncio.StreamWriter) -> bool:
        """Write one response; False when the connection is to be dropped."""
        if self.fault and request.url.path.startswith("/v1/companies/"):
            self.faults_served += 1
            return await self._misbehave(self.fault, writer)
        response = await self.fake.handle(request)
        _write(writer, response.status_code, response.content)
        await writer.drain()
        return True

    async def _misbehave(self, fault: str, writer: asyncio.StreamWriter) -> bool:
        if fault == "slow":
            await asyncio.sleep(3600)  # past any client's patience: only the decision budget ends the wait
        elif fault == "reset":
            writer.transport.abort()
            return False
        elif fault == "error_5xx":
            _write(writer, 503, b'{"message": "unavailable"}')
        elif fault == "malformed":
            _write(writer, 200, b'{"report": {"creditScore": ')
        elif fault == "oversized":
            _write(writer, 200, b'{"report": {"padding": "' + b"x" * OVERSIZED_BYTES + b'"}}')
        elif fault == "trickle":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n")
            for _ in range(600):  # a byte every 100 ms for a minute: never a read timeout, never a whole body
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.1)
            writer.transport.abort()
            return False
        await writer.drain()
        return True


async def _read_request(reader: asyncio.StreamReader) -> httpx.Request | None:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int({name.lower(): value for name, value in headers.items()}.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return httpx.Request(method, "http://127.0.0.1" + target, headers=headers, content=body)


def _write(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    head = f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body)
