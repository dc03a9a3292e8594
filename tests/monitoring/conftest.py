"""An app with the dispatcher and scheduler off (tests run passes themselves) and private targets allowed."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from tests.conftest import running_app
from tests.monitoring.receiver import Receiver


@dataclass
class Running:
    app: FastAPI
    client: httpx.AsyncClient


@pytest.fixture
def monitor_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhooks_allow_private_targets": True,
            "webhooks_dispatch_interval_seconds": 0,
            "webhooks_backoff_base_seconds": 0.05,
            "webhooks_timeout_seconds": 2.0,
        }
    )


@pytest.fixture
async def running(monitor_settings: Settings, engine: AsyncEngine) -> AsyncIterator[Running]:
    async with running_app(monitor_settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as client:
            yield Running(app, client)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    # A port of its own each time, known before the receiver listens (some tests subscribe first): two suites
    # running side by side never meet on one.
    receiver = Receiver(_free_port())
    yield receiver
    await receiver.stop()
