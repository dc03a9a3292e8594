"""`creditgate monitor` (a pass, for cron) and `creditgate webhooks dispatch` (one dispatcher pass)."""

from __future__ import annotations

import asyncio

import typer

webhooks_cli = typer.Typer(help="Webhook delivery.", no_args_is_help=True)


def monitor(
    budget: int = typer.Option(None, help="Paid report calls at most (default: CREDITGATE_MONITOR_BUDGET).", min=0),
) -> None:
    """Re-pull old reports of customers with exposure or recent orders, and act on what changed."""
    import httpx
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.db import Database
    from app.monitoring.scheduler import PassRunning, run_leased_pass
    from app.monitoring.service import MonitorService
    from app.policy_versions.service import PolicyService
    from app.providers.registry import build_report_service
    from app.settings import get_settings

    settings = get_settings()
    limit = settings.monitor_budget if budget is None else budget

    async def run() -> None:
        database = Database(settings.database_url)
        policies = PolicyService(database, settings.policy_file)
        try:
            await policies.bootstrap()
            async with httpx.AsyncClient(timeout=httpx.Timeout(settings.provider_timeout_ms / 1000)) as http:
                reports = build_report_service(settings, http, database)
                monitor = MonitorService(database, reports, policies.active_policy, settings.monitor_recent_days)
                with Progress(
                    TextColumn("monitor"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
                ) as progress:
                    task = progress.add_task("customers", total=None)

                    def advance(done: int, total: int) -> None:
                        progress.update(task, completed=done, total=total)

                    result = await run_leased_pass(database, monitor, limit, progress=advance)
                await reports.aclose()
        finally:
            await database.dispose()
        typer.echo(
            f"{result.checked} customer(s) checked, {result.report_calls} report call(s) of {limit}, "
            f"{result.skipped_for_budget} left for the next pass, {len(result.changed)} changed"
        )

    try:
        asyncio.run(run())
    except PassRunning as exc:
        typer.secho(str(exc), fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(75) from None  # EX_TEMPFAIL: cron may simply try again later


@webhooks_cli.command("dispatch")
def dispatch() -> None:
    """Send every webhook delivery that is due now (one pass)."""
    import httpx

    from app.db import Database
    from app.settings import get_settings
    from app.webhooks.dispatcher import Dispatcher, retry_rules

    settings = get_settings()

    async def run() -> int:
        database = Database(settings.database_url)
        try:
            async with httpx.AsyncClient() as http:
                return await Dispatcher(database, http, retry_rules(settings)).dispatch_once()
        finally:
            await database.dispose()

    typer.echo(f"{asyncio.run(run())} delivery(ies) delivered")
