"""The app with its services in reach, for tests that run a monitor pass."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Running:
    app: FastAPI
    client: httpx.AsyncClient


@pytest.fixture
async def running(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Running]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as client:
            yield Running(app, client)
