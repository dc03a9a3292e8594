"""`creditgate retention purge`: delete decisions past CREDITGATE_DECISION_RETENTION_DAYS."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # imported when a command runs: `creditgate --help` stays fast
    from app.retention.service import PurgeResult

retention_cli = typer.Typer(help="Keeping decisions no longer than the retention period.", no_args_is_help=True)

ACTOR = "cli:retention"


@retention_cli.command()
def purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be deleted."),
    batch_size: int = typer.Option(5000, min=1, max=100_000, help="Decisions deleted per transaction."),
) -> None:
    """Delete decisions taken before now − retention days (never younger ones); record each batch in the audit log."""
    from app.retention.service import retention_cutoff
    from app.settings import get_settings

    settings = get_settings()
    days = settings.decision_retention_days
    cutoff = retention_cutoff(days)
    if dry_run:
        count = asyncio.run(_count(settings.database_url, days))
        typer.echo(f"{count} decisions taken before {cutoff.isoformat()} ({days} days) would be deleted")
        return
    result = asyncio.run(_purge(settings.database_url, days, batch_size))
    seqs = ", ".join(str(seq) for seq in result.audit_seqs)
    typer.echo(
        f"deleted {result.deleted} decisions taken before {result.cutoff.isoformat()} ({days} days); "
        f"audit events {seqs}"
    )


async def _count(url: str, days: int) -> int:
    from app.db import Database
    from app.retention.service import count_past_retention

    database = Database(url)
    try:
        return await count_past_retention(database, days)
    finally:
        await database.dispose()


async def _purge(url: str, days: int, batch_size: int) -> PurgeResult:
    from app.db import Database
    from app.retention.service import purge_decisions

    database = Database(url)
    try:
        return await purge_decisions(database, days, actor=ACTOR, batch_size=batch_size)
    finally:
        await database.dispose()
