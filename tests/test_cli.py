"""The `creditgate` command itself: quick to start, --version, readable help, keys, clear configuration errors."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from app.build import package_version
from app.cli import cli
from app.settings import ALL_SCOPES, get_settings, key_id

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

# What a command's start must not pay for: the app, the database layer, the server, migrations.
HEAVY = ("fastapi", "sqlalchemy", "uvicorn", "alembic", "httpx", "app.db", "app.main", "app.settings")


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, subcommand in getattr(command, "commands", {}).items():
        paths += _command_paths(subcommand, (*prefix, name))
    return paths


COMMANDS = _command_paths(typer.main.get_command(cli))


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """CREDITGATE_* variables for one test, read afresh by the settings."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


class TestStartUp:
    def test_help_of_every_command_imports_neither_the_app_nor_the_database(self) -> None:
        script = (
            "import sys\n"
            "from typer.testing import CliRunner\n"
            "from app.cli import cli\n"
            f"for path in {[list(path) for path in COMMANDS]!r}:\n"
            "    assert CliRunner().invoke(cli, [*path, '--help']).exit_code == 0, path\n"
            f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
        )
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
        assert done.stdout.strip() == "[]", done.stdout

    def test_version(self) -> None:
        result = runner.invoke(cli, ["--version"])
        assert result.exit_code == 0
        assert result.output == f"creditgate {package_version()}\n"
        assert re.fullmatch(r"\d+\.\d+\.\d+.*", package_version())


class TestHelp:
    @pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "creditgate")
    def test_flags_show_no_type_placeholder(self, path: tuple[str, ...]) -> None:
        result = runner.invoke(cli, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0
        assert "<bool>" not in result.output
        assert "--help" in result.output

    def test_commands_come_in_the_order_of_a_service_s_life(self) -> None:
        output = runner.invoke(cli, ["--help"], terminal_width=200).output
        listed = re.findall(r"^│ ([a-z][a-z-]*) {2,}", output, re.MULTILINE)
        assert listed[:2] == ["serve", "migrate"]
        assert listed[-1] == "openapi"
        assert sorted(listed) == sorted(name for (name,) in (path for path in COMMANDS if len(path) == 1))


class TestKeys:
    def test_new_prints_a_key_once_with_its_digest_and_the_entry_to_configure(self) -> None:
        result = runner.invoke(cli, ["keys", "new", "--scope", "read", "--scope", "decide"])
        assert result.exit_code == 0, result.output
        key = re.search(r"^key: +(\S+)$", result.output, re.MULTILINE)[1]  # type: ignore[index]
        digest = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        assert f"digest: {digest}" in result.output
        assert f"id:     {key_id(key)}" in result.output
        entry = result.output.split("CREDITGATE_API_KEYS entry: ")[1].splitlines()[0]
        assert json.loads(entry) == {digest: ["decide", "read"]}
        assert len(key) >= 32
        assert runner.invoke(cli, ["keys", "new"]).output.count("cg_") == 1

    def test_new_grants_every_scope_unless_told(self) -> None:
        result = runner.invoke(cli, ["keys", "new"])
        entry = result.output.split("CREDITGATE_API_KEYS entry: ")[1].splitlines()[0]
        assert next(iter(json.loads(entry).values())) == list(ALL_SCOPES)

    def test_new_refuses_an_unknown_scope(self) -> None:
        result = runner.invoke(cli, ["keys", "new", "--scope", "everything"])
        assert result.exit_code == 2
        assert "unknown scope everything" in result.output

    def test_the_help_names_every_scope(self) -> None:
        output = runner.invoke(cli, ["keys", "new", "--help"], terminal_width=200).output
        assert all(scope in output for scope in ALL_SCOPES)

    def test_digest_reads_the_key_from_standard_input(self) -> None:
        key = "an-existing-plain-key-0001"
        result = runner.invoke(cli, ["keys", "digest"], input=key + "\n")
        assert result.exit_code == 0
        assert result.output == "sha256:" + hashlib.sha256(key.encode()).hexdigest() + "\n"


class TestConfigurationErrors:
    def test_serve_without_keys_prints_the_message_alone(self, tmp_path: Path) -> None:
        env = {
            **os.environ,
            "CREDITGATE_API_KEYS": "",
            "CREDITGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
        }
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--port", "1"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2
        assert "CREDITGATE_API_KEYS is empty" in done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        assert len(done.stderr.strip().splitlines()) == 1

    def test_a_bad_variable_is_named_without_a_traceback(self, environment: pytest.MonkeyPatch) -> None:
        environment.setenv("CREDITGATE_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
        result = runner.invoke(cli, ["retention", "purge", "--dry-run"])
        assert result.exit_code == 2
        assert "CREDITGATE_TRUSTED_PROXIES: " in result.output
        assert "'proxy.internal' is not an IP address or network" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
