"""`creditgate policy validate` and `creditgate policy simulate` from the command line."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import insert
from typer.testing import CliRunner

from app.auth import Principal
from app.cli import cli
from app.db import Database, create_engine
from app.decisions.models import Decision
from app.policy.schema import load_policy_file
from app.policy_versions.service import PolicyService
from app.settings import DEFAULT_POLICY_FILE, get_settings
from tests.conftest import truncate_all
from tests.policy.history import synthetic_rows

runner = CliRunner()


async def _store_stricter(database_url: str, folder: Path) -> None:
    """Version v2: the default policy with every regular order above 100.00 sent to review."""
    document = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    document["version"] = "v2"
    for cells in document["grid"].values():
        if isinstance(cells, dict) and "regular" in cells:
            cells["regular"]["review_above"] = "100.00"
    (folder / "v2.yaml").write_text(yaml.safe_dump(document))
    database = Database(database_url)
    try:
        policies = PolicyService(database, DEFAULT_POLICY_FILE)
        await policies.active_policy()
        await policies.create(load_policy_file(folder / "v2.yaml"), Principal("key_test", frozenset({"admin"})))
    finally:
        await database.dispose()


async def _seed(database_url: str, count: int) -> None:
    engine = create_engine(database_url)
    await truncate_all(engine)
    if count:
        async with engine.begin() as connection:
            await connection.execute(insert(Decision), synthetic_rows(count, load_policy_file(DEFAULT_POLICY_FILE)))
    await engine.dispose()


@pytest.fixture
def seeded(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test database with 250 stored decisions, as the CLI's settings."""
    monkeypatch.setenv("CREDITGATE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    asyncio.run(_seed(database_url, 250))
    yield database_url
    get_settings.cache_clear()


class TestValidate:
    def test_the_default_policy_is_valid(self) -> None:
        result = runner.invoke(cli, ["policy", "validate", str(DEFAULT_POLICY_FILE)])
        assert result.exit_code == 0
        assert "valid policy default-2026.11" in result.output

    def test_an_invalid_file_names_the_line_and_field_and_fails(self, tmp_path: Path) -> None:
        broken = tmp_path / "broken.yaml"
        broken.write_text(
            DEFAULT_POLICY_FILE.read_text().replace("overdue_days_tolerance: 30", "overdue_days_tolerance: x")
        )
        result = runner.invoke(cli, ["policy", "validate", str(broken)], terminal_width=200)
        assert result.exit_code == 1
        line = next(n for n, text in enumerate(broken.read_text().splitlines(), 1) if "overdue_days_tolerance" in text)
        assert f"broken.yaml:{line}: stop.overdue_days_tolerance" in result.output


class TestSimulate:
    def test_replays_the_history_and_prints_the_transitions(self, seeded: str) -> None:
        result = runner.invoke(cli, ["policy", "simulate", "default-2026.11"], terminal_width=200)
        assert result.exit_code == 0, result.output
        assert "Replayed 250 decisions through default-2026.11: 0 would change." in result.output
        assert "Outcome transitions" in result.output
        assert "250/250" in result.output

    def test_an_unknown_version_fails(self, seeded: str) -> None:
        result = runner.invoke(cli, ["policy", "simulate", "nope"], terminal_width=200)
        assert result.exit_code == 1
        assert "no policy version nope" in result.output

    def test_a_time_without_offset_is_refused(self, seeded: str) -> None:
        result = runner.invoke(cli, ["policy", "simulate", "default-2026.11", "--from", "2026-01-01T00:00:00"])
        assert result.exit_code == 2

    def test_json_prints_the_api_s_document_alone(self, seeded: str) -> None:
        result = runner.invoke(cli, ["policy", "simulate", "default-2026.11", "--json"], terminal_width=200)
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert document["replayed"] == 250
        assert document["changed"] == 0
        assert document["policy_version"] == "default-2026.11"

    def test_changed_decisions_are_listed_with_whole_ids(self, seeded: str, tmp_path: Path) -> None:
        asyncio.run(_store_stricter(seeded, tmp_path))
        as_json = json.loads(runner.invoke(cli, ["policy", "simulate", "v2", "--json", "--show", "5"]).stdout)
        changed = as_json["changed_decisions"]["items"]
        assert as_json["changed"] > 0
        assert len(changed) == 5
        table = runner.invoke(cli, ["policy", "simulate", "v2", "--show", "5"], terminal_width=120).output
        for item in changed:
            assert str(uuid.UUID(item["decision_id"])) in table
            assert f"order {item['order_id']} " in table
            assert f"customer {item['customer_id']} " in table
