"""The stack's own floor: what each layer of the decision route costs, as ratios to the bare endpoint.

One server (`bench/floor_app.py`: the service plus floor routes) and one database per run. The same wrk
script that drives the decision load sends the same bodies to each floor route in turn, then to the
decision route itself, so every row of the ladder is taken under the same load on the same server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.db import Database
from bench.config import BenchConfig
from bench.databases import BenchDatabase
from bench.floor_app import FLOORS, PREFIX, create_scratch_table
from bench.seed import SEEDERS
from bench.server import RunningServer, generate_key, serve
from bench.throughput import bare_load, check_decides, decision_load, measured
from bench.wrk import LoadResult

FLOOR_FACTORY = "bench.floor_app:app_factory"


def measure_floors(
    config: BenchConfig, database: BenchDatabase, port: int, results: Path, run_tag: str
) -> dict[str, Any]:
    print(f"[{database.kind}] seeding", flush=True)
    for seeder in SEEDERS:
        seeder(database, config.customers)
    asyncio.run(_scratch_table(database.url))
    log = results / f"server-{database.kind}-floor.log"
    rows: list[dict[str, Any]] = []
    with serve(database.url, port, generate_key(), log, config.uvicorn_args, FLOOR_FACTORY) as server:
        check_decides(server)
        rows.append(_row(config, server, "bare", "GET /health/live", "", run_tag))
        for name, adds in FLOORS:
            rows.append(_row(config, server, name, adds, f"{PREFIX}/{name}", run_tag))
        rows.append(_row(config, server, "decision", "POST /v1/decisions, cached reports", "/v1/decisions", run_tag))
    bare = rows[0]
    for row in rows:
        row["ratio"] = round(row["per_second"] / bare["per_second"], 3) if bare["per_second"] else 0.0
    return {"database": database.kind, "rows": rows}


def _row(config: BenchConfig, server: RunningServer, name: str, adds: str, path: str, run_tag: str) -> dict[str, Any]:
    """One rung; `path` "" is the bare endpoint."""

    def load(seconds: float, phase: str) -> LoadResult:
        if not path:
            return bare_load(config, server, seconds)
        # A run tag of its own per rung and phase: the measured load never re-decides the warm-up's orders.
        return decision_load(config, server, f"{run_tag}{name}{phase}", seconds, path)

    print(f"  {name}: {config.warmup_s:g} s warm-up, {config.duration_s:g} s", flush=True)
    return {"name": name, "adds": adds, **measured(config, server, load)}


async def _scratch_table(url: str) -> None:
    database = Database(url)
    try:
        await create_scratch_table(database)
    finally:
        await database.dispose()
