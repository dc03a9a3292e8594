"""Property-based fuzzing of the whole API in process: no 5xx, conforming responses, bad input rejected."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from schemathesis.python import asgi
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings
from tests.reliability.fuzz import fuzz, load_schema

MAX_EXAMPLES = 12
# Against a real uvicorn server, with every phase (stateful included): tests/reliability/test_contract.py.


@pytest.fixture
def asgi_lifespans(engine: AsyncEngine) -> Iterator[None]:
    """Schemathesis starts the app's lifespan on its own loop; stop it so no pool outlives the test."""
    yield
    asgi.shutdown_lifespans()


class TestFuzzInProcess:
    @pytest.mark.usefixtures("asgi_lifespans")
    def test_every_operation_survives_generated_requests(self, settings: Settings) -> None:
        schema = load_schema(app=create_app(settings))
        failures = fuzz(schema, MAX_EXAMPLES)
        assert failures == {}, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
