"""`creditgate audit verify`: the chain walk from the command line, with a progress bar."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # imported when a command runs: `creditgate --help` stays fast
    from rich.console import Console

    from app.audit.canonical import Head
    from app.audit.verify import Verification

audit_cli = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


def _anchor(value: str | None) -> Head | None:
    from app.audit.canonical import Head

    if value is None:
        return None
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise typer.BadParameter("give the anchor as SEQ:HASH, e.g. 1200:3fa4… (64 hex digits)")
    return Head(int(seq), digest)


@audit_cli.command()
def verify(
    anchor: str | None = typer.Option(None, help="SEQ:HASH recorded earlier outside the database."),
    chunk_size: int = typer.Option(5000, min=1, help="Events read per query."),
) -> None:
    """Walk the hash chain in seq order; exit 1 and name the first broken event if it does not hold."""
    from rich.console import Console

    expected = _anchor(anchor)
    console = Console(stderr=True)
    started = time.perf_counter()
    result = asyncio.run(_verify(expected, chunk_size, console))
    seconds = time.perf_counter() - started
    rate = result.events_checked / seconds if seconds > 0 else 0.0
    if result.first_broken is None:
        typer.echo(
            f"intact: {result.events_checked} events verified in {seconds:.1f}s ({rate:,.0f}/s); "
            f"last seq {result.last_seq} hash {result.last_hash}"
        )
        return
    broken = result.first_broken
    typer.echo(f"BROKEN at seq {broken.seq}: {broken.problem} — {broken.detail}", err=True)
    typer.echo(f"{result.events_checked} events verified before it; last good seq {result.last_seq}", err=True)
    raise typer.Exit(1)


async def _verify(anchor: Head | None, chunk_size: int, console: Console) -> Verification:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.audit.verify import verify_chain
    from app.db import Database
    from app.settings import get_settings

    database = Database(get_settings().database_url)
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("audit", total=None)

            def advance(checked: int, head_seq: int) -> None:
                progress.update(task, completed=checked, total=max(head_seq, checked) or None)

            return await verify_chain(database, chunk_size=chunk_size, anchor=anchor, on_progress=advance)
    finally:
        await database.dispose()
