"""An app with the dispatcher and scheduler off (tests run passes themselves) and private targets allowed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings
from tests.monitoring.receiver import Receiver

RECEIVER_PORT = 18711


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
    app = create_app(monitor_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as client:
            yield Running(app, client)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver(RECEIVER_PORT)
    yield receiver
    await receiver.stop()
