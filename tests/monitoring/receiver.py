"""A real local HTTP server that records the webhooks it receives, on a free port of its own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


# How the receiver answers: "ok" (204), "endless" (a 200 whose chunked body never ends, up to ENDLESS_BYTES)
# or "trickle" (one byte of the status line every 100 ms, never a whole answer, for up to TRICKLE_SECONDS).
ENDLESS_BYTES = 256 * 1024 * 1024
TRICKLE_SECONDS = 30.0


@dataclass
class Receiver:
    port: int
    mode: str = "ok"
    received: list[Received] = field(default_factory=list)
    server: asyncio.Server | None = None
    body_bytes_sent: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readline()  # request line
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(headers, body))
            if self.mode == "endless":
                await self._endless(writer)
            elif self.mode == "trickle":
                await self._trickle(writer)
            else:
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass  # the client hung up, as it should on an answer like these
        finally:
            writer.close()

    async def _endless(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        while self.body_bytes_sent < ENDLESS_BYTES:
            writer.write(framed)
            await writer.drain()
            self.body_bytes_sent += len(chunk)

    async def _trickle(self, writer: asyncio.StreamWriter) -> None:
        for _ in range(int(TRICKLE_SECONDS * 10)):
            writer.write(b" " if self.body_bytes_sent else b"H")
            await writer.drain()
            self.body_bytes_sent += 1
            await asyncio.sleep(0.1)
