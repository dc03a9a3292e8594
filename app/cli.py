"""The `creditgate` command line: migrate, serve, openapi, audit verify, retention purge."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from pathlib import Path

import typer
import uvicorn
from alembic.config import Config

from app.audit.commands import audit_cli
from app.monitoring.cli import monitor, webhooks_cli
from app.policies.cli import policy_cli
from app.retention.commands import retention_cli
from app.settings import ALL_SCOPES, get_settings

cli = typer.Typer(help="creditgate: B2B trade-credit decisions.", no_args_is_help=True)
cli.add_typer(policy_cli, name="policy")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(retention_cli, name="retention")
providers_cli = typer.Typer(help="Credit-report providers.", no_args_is_help=True)
cli.add_typer(providers_cli, name="providers")
cli.add_typer(webhooks_cli, name="webhooks")
cli.command()(monitor)

DEV_KEY_FILE = Path(".creditgate-dev-key")


def alembic_config(database_url: str | None = None) -> Config:
    # The checkout (or the image's working directory) holds alembic.ini and migrations/.
    candidates = (Path(__file__).resolve().parent.parent, Path.cwd())
    root = next((path for path in candidates if (path / "alembic.ini").exists()), candidates[0])
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


@cli.command()
def migrate(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Bring the database schema up to date (alembic upgrade)."""
    from alembic import command

    settings = get_settings()
    command.upgrade(alembic_config(settings.database_url), revision)
    typer.echo(f"database at {revision}: {_safe_url(settings.database_url)}")


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to bind."),
    dev: bool = typer.Option(False, help="Embedded demo: create and print a dev key when none is configured."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Serve the API with uvicorn."""
    if dev and not os.environ.get("CREDITGATE_API_KEYS"):
        key = _dev_key()
        os.environ["CREDITGATE_API_KEYS"] = json.dumps({key: list(ALL_SCOPES)})
        get_settings.cache_clear()
        typer.secho(f"Dev API key (all scopes): {key}", fg=typer.colors.GREEN, bold=True)
        typer.echo(
            f'  also in {DEV_KEY_FILE}; try: curl -H "Authorization: Bearer $(cat {DEV_KEY_FILE})" '
            f"http://{host}:{port}/v1/decisions"
        )
    uvicorn.run(
        "app.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The app factory configures JSON logging and writes its own access line with the request id.
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


@cli.command()
def openapi() -> None:
    """Print the OpenAPI document the app serves."""
    from app.main import create_app

    document = create_app().openapi()
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")


@providers_cli.command("import-insurer-limits")
def import_insurer_limits(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The insurer's CSV file."),
    replace: bool = typer.Option(False, help="Remove the limits that are not in this file."),
) -> None:
    """Import a credit insurer's buyer limits (all or nothing)."""
    from app.db import Database
    from app.errors import InvalidRequest
    from app.providers.insurer_limits import import_insurer_limits as run_import

    text = file.read_text(encoding="utf-8-sig")

    async def run() -> None:
        database = Database(get_settings().database_url)
        try:
            result = await run_import(database, text, replace=replace)
        finally:
            await database.dispose()
        typer.echo(f"imported {result.imported} limit(s), removed {result.removed}")

    try:
        asyncio.run(run())
    except InvalidRequest as exc:
        typer.secho(f"{file}: {exc.detail}", fg=typer.colors.RED, err=True)
        for error in exc.errors or []:
            typer.echo(f"  {error.field}: {error.message}", err=True)
        raise typer.Exit(1) from None


def _dev_key() -> str:
    if DEV_KEY_FILE.exists():
        key = DEV_KEY_FILE.read_text().strip()
        if len(key) >= 16:
            return key
    key = "dev_" + secrets.token_urlsafe(24)
    DEV_KEY_FILE.write_text(key + "\n")
    DEV_KEY_FILE.chmod(0o600)
    return key


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
