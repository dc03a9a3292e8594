"""The `creditgate` command line: serve, migrate, keys, policy, providers, insurance, monitor, webhooks, audit,
retention.

Operators run these from shells, cron and containers, so start-up matters: this module and the command modules
import little more than typer at the top; each command imports the app, the database and uvicorn when it runs.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from app.audit.commands import audit_cli
from app.insurance.cli import insurance_cli
from app.limits.cli import opportunities
from app.monitoring.cli import monitor, webhooks_cli
from app.policy_versions.cli import policy_cli
from app.retention.commands import retention_cli

if TYPE_CHECKING:
    from app.settings import Settings

SERVICE, CREDIT_DATA, OPERATIONS, DEVELOPMENT = "Service", "Credit data", "Operations", "Development"
DEV_KEY_FILE = Path(".creditgate-dev-key")


class _Commands(TyperGroup):
    """The root group: commands in the order of a service's life; a flag reads `--dry-run`, not `--dry-run <bool>`."""

    ORDER = (
        "serve",
        "migrate",
        "policy",
        "providers",
        "insurance",
        "keys",
        "monitor",
        "webhooks",
        "audit",
        "retention",
        "openapi",
    )

    def list_commands(self, ctx: Any) -> list[str]:
        rank = {name: index for index, name in enumerate(self.ORDER)}
        return sorted(self.commands, key=lambda name: rank.get(name, len(rank)))

    def main(self, *args: Any, **kwargs: Any) -> Any:
        _hide_flag_types(self, typer.Context(self))
        return super().main(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            from pydantic import ValidationError

            if not isinstance(exc, ValidationError) or exc.title != "Settings":
                raise
            # A bad CREDITGATE_* variable: name each one, without a traceback.
            for error in exc.errors():
                name = "CREDITGATE_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
                typer.secho(f"{name}: {error['msg']}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None


def _hide_flag_types(command: Any, ctx: typer.Context) -> None:
    help_option = command.get_help_option(ctx)
    for param in [*command.params, *([help_option] if help_option else [])]:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    for subcommand in getattr(command, "commands", {}).values():
        _hide_flag_types(subcommand, ctx)


def _version(value: bool) -> None:
    if value:
        from app.build import package_version

        typer.echo(f"creditgate {package_version()}")
        raise typer.Exit()


cli = typer.Typer(cls=_Commands, help="creditgate: B2B trade-credit decisions.", no_args_is_help=True)


@cli.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    pass


@cli.command(rich_help_panel=SERVICE)
def serve(
    host: str = typer.Option("127.0.0.1", envvar="HOST", help="Interface to bind (or HOST)."),
    port: int = typer.Option(8000, envvar="PORT", min=1, max=65535, help="Port to bind (or PORT)."),
    dev: bool = typer.Option(False, "--dev", help="Embedded demo: create and print a dev key when none is set."),
    migrate_first: bool = typer.Option(False, "--migrate", help="Bring the schema up to date before serving."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the API with uvicorn."""
    if dev and not os.environ.get("CREDITGATE_API_KEYS"):
        from app.settings import ALL_SCOPES, get_settings

        key = _dev_key()
        os.environ["CREDITGATE_API_KEYS"] = json.dumps({key: list(ALL_SCOPES)})
        get_settings.cache_clear()
        typer.secho(f"Dev API key (all scopes): {key}", fg=typer.colors.GREEN, bold=True)
        typer.echo(
            f'  also in {DEV_KEY_FILE}; try: curl -H "Authorization: Bearer $(cat {DEV_KEY_FILE})" '
            f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/v1/decisions"  # noqa: S104
        )
    settings = load_settings()
    if not settings.key_scopes():
        typer.secho(
            "CREDITGATE_API_KEYS is empty: configure at least one key (`creditgate keys new` makes one), "
            "or start the demo with `make run`",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    if migrate_first:
        migrate("head")
    import uvicorn

    trusted = settings.trusted_proxies
    uvicorn.run(
        "app.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The app factory configures JSON logging and writes its own access line with the request id.
        log_config=None,
        access_log=False,
        # X-Forwarded-For and -Proto only from the proxies named in CREDITGATE_TRUSTED_PROXIES.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )


@cli.command(rich_help_panel=SERVICE)
def migrate(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Bring the database schema up to date (alembic upgrade)."""
    from alembic import command

    from app.db import alembic_config

    settings = load_settings()
    command.upgrade(alembic_config(settings.database_url), revision)
    typer.echo(f"database at {revision}: {_safe_url(settings.database_url)}")


keys_cli = typer.Typer(help="API keys: make one, or the digest to configure instead of the key.", no_args_is_help=True)


@keys_cli.command("new")
def new_key(
    scope: list[str] = typer.Option(
        [],
        "--scope",
        help="A scope to grant, repeatable: decide, read, review, receivables, sales, admin (default: all).",
    ),
) -> None:
    """Make a key: print it once, with the digest and scopes to put in CREDITGATE_API_KEYS."""
    from app.settings import ALL_SCOPES, key_digest, key_id

    unknown = sorted(set(scope) - set(ALL_SCOPES))
    if unknown:
        choices = ", ".join(ALL_SCOPES)
        raise typer.BadParameter(f"unknown scope {', '.join(unknown)}; use {choices}", param_hint="--scope")
    scopes = [name for name in ALL_SCOPES if name in scope] if scope else list(ALL_SCOPES)
    key = "cg_" + secrets.token_urlsafe(32)
    typer.echo(f"key:    {key}")
    typer.echo(f"digest: {key_digest(key)}")
    typer.echo(f"id:     {key_id(key)}")
    typer.echo(f"CREDITGATE_API_KEYS entry: {json.dumps({key_digest(key): scopes})}")
    typer.echo("The key is shown only now: hand it to its caller; configure only the digest.", err=True)


@keys_cli.command("digest")
def digest_key() -> None:
    """Print the digest of a key read from standard input (to replace a plain key in CREDITGATE_API_KEYS)."""
    from app.settings import key_digest

    key = sys.stdin.readline().strip()
    if len(key) < 16:
        typer.secho("give the key on standard input (16 characters or more)", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    typer.echo(key_digest(key))


cli.add_typer(keys_cli, name="keys", rich_help_panel=OPERATIONS)
cli.add_typer(policy_cli, name="policy", rich_help_panel=CREDIT_DATA)
providers_cli = typer.Typer(help="Credit-report providers.", no_args_is_help=True)
cli.add_typer(providers_cli, name="providers", rich_help_panel=CREDIT_DATA)
cli.command(rich_help_panel=OPERATIONS)(monitor)
cli.command(rich_help_panel=CREDIT_DATA)(opportunities)
cli.add_typer(webhooks_cli, name="webhooks", rich_help_panel=OPERATIONS)
cli.add_typer(insurance_cli, name="insurance", rich_help_panel=CREDIT_DATA)
cli.add_typer(audit_cli, name="audit", rich_help_panel=OPERATIONS)
cli.add_typer(retention_cli, name="retention", rich_help_panel=OPERATIONS)


@providers_cli.command("import-insurer-limits")
def import_insurer_limits(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The insurer's CSV file."),
    replace: bool = typer.Option(False, "--replace", help="Remove the limits that are not in this file."),
) -> None:
    """Import a credit insurer's buyer limits (all or nothing)."""
    import asyncio

    from app.db import Database
    from app.errors import InvalidRequest
    from app.providers.insurer_limits import import_insurer_limits as run_import

    text = file.read_text(encoding="utf-8-sig")
    settings = load_settings()

    async def run() -> None:
        database = Database(settings.database_url)
        try:
            result = await run_import(database, text, replace=replace)
        finally:
            await database.dispose()
        typer.echo(
            f"imported {result.imported} limit(s), removed {result.removed}; covers written "
            f"{result.covers_written}, withdrawn {result.covers_withdrawn}; buyers not a customer {result.unmatched}"
        )

    try:
        asyncio.run(run())
    except InvalidRequest as exc:
        typer.secho(f"{file}: {exc.detail}", fg=typer.colors.RED, err=True)
        for error in exc.errors or []:
            typer.echo(f"  {error.field}: {error.message}", err=True)
        raise typer.Exit(1) from None


@cli.command(rich_help_panel=DEVELOPMENT)
def openapi() -> None:
    """Print the OpenAPI document the app serves."""
    from app.main import create_app

    document = create_app().openapi()
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")


def load_settings() -> Settings:
    from app.settings import get_settings

    return get_settings()


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
