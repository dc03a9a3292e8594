"""`creditgate insurance poll`: ask the credit insurer about pending limit requests (for cron)."""

from __future__ import annotations

import asyncio

import typer

insurance_cli = typer.Typer(help="Credit insurance: limit requests to the insurer.", no_args_is_help=True)


@insurance_cli.command("poll")
def poll(limit: int = typer.Option(100, help="Pending requests asked about at most.", min=1, max=10_000)) -> None:
    """Ask the insurer about pending limit requests and apply the answers given."""
    import httpx

    from app.db import Database
    from app.insurance.insurer_requests import InsurerRequestService
    from app.insurance.insurers import build_insurer
    from app.settings import get_settings

    settings = get_settings()

    async def run() -> None:
        database = Database(settings.database_url)
        try:
            async with httpx.AsyncClient() as http:
                result = await InsurerRequestService(database, build_insurer(settings, http)).poll(limit)
        finally:
            await database.dispose()
        typer.echo(
            f"{result.polled} limit request(s) polled: {result.answered} answered, {result.still_pending} still "
            f"pending, {result.failed} failed"
        )

    asyncio.run(run())
