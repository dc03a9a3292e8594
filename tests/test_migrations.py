"""Alembic owns the schema: the models and the migrations agree, and the chain goes down and up again."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.cli import alembic_config


def _config(database_url: str) -> Config:
    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    return config


class TestMigrations:
    def test_models_match_migrations(self, database_url: str) -> None:
        command.check(_config(database_url))

    def test_one_head(self, database_url: str) -> None:
        assert len(ScriptDirectory.from_config(_config(database_url)).get_heads()) == 1

    def test_downgrade_to_base_and_upgrade_again(self, database_url: str) -> None:
        config = _config(database_url)
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        command.check(config)

    def test_every_revision_goes_down_and_up_one_step_at_a_time(self, database_url: str) -> None:
        config = _config(database_url)
        revisions = [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()]
        assert len(revisions) >= 4
        for _ in revisions:
            command.downgrade(config, "-1")
        for _ in revisions:
            command.upgrade(config, "+1")
        command.check(config)
