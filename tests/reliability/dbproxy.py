"""A TCP proxy in front of PostgreSQL that a test can cut (every connection dropped) and restore, or freeze.

Frozen, it is a network partition rather than a reset: connections stay open and new ones are accepted, but no
byte goes through in either direction until it thaws.
"""

from __future__ import annotations

import asyncio
import contextlib


class DatabaseProxy:
    """Forwards 127.0.0.1:`port` to the database; `cut()` closes the listener and every open connection."""

    def __init__(self, port: int, target_host: str, target_port: int) -> None:
        self.port = port
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        self.flowing = asyncio.Event()
        self.flowing.set()

    async def freeze(self) -> None:
        """Stop forwarding without closing anything: every read on either side waits, as in a partition."""
        self.flowing.clear()

    async def thaw(self) -> None:
        """Deliver what waited and forward again."""
        self.flowing.set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await self.flowing.wait()  # a partition: the connection is accepted, its handshake never answered
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.writers.update((client_writer, upstream_writer))
        await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self.writers.discard(writer)
