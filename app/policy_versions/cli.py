"""`creditgate policy ...`: validate a policy file, replay history through a stored version."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # imported when a command runs: `creditgate --help` stays fast
    from rich.console import Console

    from app.policy_versions.query import ReplayFilters
    from app.policy_versions.schemas import SimulationOut

policy_cli = typer.Typer(
    help="Credit policy documents: validate a file, replay history (what-if).", no_args_is_help=True
)


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr)


@policy_cli.command("validate")
def validate(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A YAML or JSON policy.")) -> None:
    """Check a policy document; errors name the field and the line."""
    from app.policy.schema import PolicyDocumentError, load_policy_file

    console = _console()
    try:
        document = load_policy_file(file)
    except PolicyDocumentError as exc:
        for error in exc.errors:
            where = f"{file}:{error['line']}" if error.get("line") else str(file)
            console.print(f"[red]{where}[/red]: {error['field']}: {error['message']}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(
        f"{file}: valid policy [bold]{document.version}[/bold] ({document.currency})", highlight=False, soft_wrap=True
    )


def _when(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use RFC 3339, e.g. 2026-11-01T00:00:00Z", param_hint=name) from None
    if parsed.tzinfo is None:
        raise typer.BadParameter("give a UTC offset, e.g. 2026-11-01T00:00:00Z", param_hint=name)
    return parsed


@policy_cli.command("simulate")
def simulate(
    version: str = typer.Argument(..., help="A stored policy version to replay through."),
    customer_id: str | None = typer.Option(None, help="Only this customer's decisions."),
    outcome: str | None = typer.Option(None, help="Only decisions that had this outcome."),
    decided_from: str | None = typer.Option(None, "--from", help="Inclusive, RFC 3339."),
    decided_to: str | None = typer.Option(None, "--to", help="Exclusive, RFC 3339."),
    decided_under: str | None = typer.Option(None, help="Only decisions taken under this version."),
    show: int = typer.Option(20, min=0, max=500, help="Changed decisions to list."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the API's shape), no tables."),
) -> None:
    """Replay stored decisions through VERSION: no report is bought, nothing is written."""
    from app.errors import NotFound
    from app.policy_versions.query import ReplayFilters

    filters = ReplayFilters(
        customer_id, outcome, _when("--from", decided_from), _when("--to", decided_to), decided_under
    )
    # With --json, standard output holds the document alone; progress and errors go to standard error.
    console = _console(stderr=as_json)
    try:
        result = asyncio.run(_simulate(version, filters, show, console))
    except NotFound as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        _render(result, show, console)


async def _simulate(version: str, filters: ReplayFilters, show: int, console: Console) -> SimulationOut:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from app.db import Database
    from app.policy_versions.service import PolicyService
    from app.settings import get_settings

    settings = get_settings()
    database = Database(settings.database_url)
    try:
        service = PolicyService(database, settings.policy_file)
        await service.active_policy()  # on a database without policies this stores the configured one, as a start would
        await service.document(version)
        total = await service.count(filters)
        columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("replay", total=total)
            return await service.simulate(
                version, filters, max(show, 1), progress=lambda count: progress.advance(task, count)
            )
    finally:
        await database.dispose()


def _render(result: SimulationOut, show: int, console: Console) -> None:
    from rich.table import Table

    console.print(
        f"Replayed [bold]{result.replayed}[/bold] decisions through [bold]{result.policy_version}[/bold]: "
        f"[bold]{result.changed}[/bold] would change.",
        highlight=False,
        soft_wrap=True,
    )
    matrix = Table(title="Outcome transitions (old → new)")
    for column in ("old", "new", "count", "amount"):
        matrix.add_column(column, justify="right" if column in ("count", "amount") else "left")
    for t in result.transitions:
        style = None if t.old_outcome == t.new_outcome else "yellow"
        amount = ", ".join(f"{value} {currency}" for currency, value in t.amount.items())
        matrix.add_row(t.old_outcome, t.new_outcome, str(t.count), amount, style=style)
    console.print(matrix)
    credit = Table(title="Credit extended")
    for column in ("currency", "before", "after", "change"):
        credit.add_column(column, justify="left" if column == "currency" else "right")
    for c in result.credit_extended:
        credit.add_row(c.currency, c.before, c.after, c.change)
    console.print(credit)
    if show and result.changed_decisions.items:
        # Two lines per decision rather than a table: ids are never cut to fit a narrow terminal.
        console.print(f"\n[bold]Changed decisions[/bold] (newest {len(result.changed_decisions.items)})")
        for item in result.changed_decisions.items:
            console.print(
                f"{item.decision_id}  {item.decided_at.isoformat(timespec='seconds')}  order {item.order_id}  "
                f"customer {item.customer_id}  {item.amount} {item.currency}",
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
            console.print(
                f"    {item.old.outcome} ({item.old.approved_credit_amount} on credit) → "
                f"{item.new.outcome} ({item.new.approved_credit_amount} on credit): "
                + ", ".join(reason.code for reason in item.new.reasons),
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
