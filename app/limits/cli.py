"""`creditgate opportunities`: one opportunities pass, for cron."""

from __future__ import annotations

import asyncio

import typer


def opportunities(
    lookback_days: int = typer.Option(
        None, "--days", min=1, max=730, help="Orders held back in these days (default: the policy's)."
    ),
) -> None:
    """Propose higher limits to good payers held back by their limit, as limit requests a person approves."""
    from app.db import Database
    from app.limits.opportunities import OpportunitiesService
    from app.limits.service import LimitRequestService
    from app.policy_versions.service import PolicyService
    from app.settings import get_settings

    settings = get_settings()

    async def run() -> None:
        database = Database(settings.database_url)
        policies = PolicyService(database, settings.policy_file)
        try:
            await policies.bootstrap()
            requests = LimitRequestService(database, policies.active_policy)
            result = await OpportunitiesService(database, policies.active_policy, requests).run(lookback_days)
        finally:
            await database.dispose()
        typer.echo(
            f"{result.held_back} customers held back by their limit in {result.lookback_days} days; "
            f"{len(result.proposed)} proposed, {len(result.skipped)} passed over"
        )
        for request in result.proposed:
            typer.echo(f"  proposed {request.customer_id}: {request.amount} {request.currency} (request {request.id})")
        for skipped in result.skipped:
            typer.echo(f"  passed over {skipped.customer_id}: {skipped.reason}")

    asyncio.run(run())
