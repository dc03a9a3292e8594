"""Decision latency as deployed: `creditgate serve` with every default on (the rate limit, JSON logs, the app's
access line, metrics), on a cached report, under three loads, beside a bare route validating the same bodies.

- one at a time: one connection, each decision sent when the last was answered;
- paced: `paced_connections` connections, each pausing about `pace_ms` between requests (wrk's delay()), so the
  offered rate (~200/s) does not bend to the server; every request must be answered 201;
- saturated: `connections` connections back to back; compared with the floor app's validate route under the
  same load (POST, JSON check, DecisionRequest validation, constant answer: bench/floor_app.py).

The load spreads over `api_keys` keys, one per checkout; each key stays far under the default limit. On SQLite the
one-at-a-time and saturated loads run once more with `synchronous=NORMAL`, labelled, to show what FULL costs.
Before the loads, statements, transactions and what a lone decision waits on (aiosqlite thread hops on SQLite, round
trips on PostgreSQL) are counted per decision in process (bench/statements.py).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.config import BenchConfig
from bench.databases import BenchDatabase
from bench.floor import FLOOR_FACTORY, _scratch_table
from bench.floor_app import PREFIX
from bench.seed import SEEDERS, seed_decisions
from bench.server import RunningServer, cpu_seconds, generate_key, serve
from bench.statements import count_per_decision
from bench.throughput import check_decides
from bench.wrk import LoadResult, run_wrk


def _load(
    config: BenchConfig,
    server: RunningServer,
    tag: str,
    *,
    connections: int,
    pace_ms: int = 0,
    path: str = "/v1/decisions",
) -> dict[str, Any]:
    """A warm-up, then the measured run; wrk's figures with the server's CPU per request."""

    def once(seconds: float, phase: str) -> LoadResult:
        args = [server.all_keys, str(config.customers), tag + phase, path]
        return run_wrk(
            server.base_url,
            "decisions.lua",
            args,
            seconds=seconds,
            connections=connections,
            threads=config.threads,
            pace_ms=pace_ms,
        )

    once(config.warmup_s, "w")
    cpu = cpu_seconds(server.pid)
    result = once(config.latency_duration_s, "")
    used = cpu_seconds(server.pid) - cpu
    cpu_ms = round(used / result.requests * 1000, 3) if result.requests else 0.0
    return {**result.as_dict(), "connections": connections, "pace_ms": pace_ms, "cpu_ms": cpu_ms}


def measure_latency(
    config: BenchConfig, database: BenchDatabase, port: int, results: Path, newest: datetime, run_tag: str
) -> dict[str, Any]:
    print(f"[{database.kind}] seeding", flush=True)
    for seeder in SEEDERS:
        seeder(database, config.customers)
    seed_decisions(database, config.seed_decisions, config.customers, newest)
    asyncio.run(_scratch_table(database.url))
    print(f"[{database.kind}] counting statements per decision (in process)", flush=True)
    counted = asyncio.run(count_per_decision(database.url, config.customers, run_tag))
    keys = [generate_key() for _ in range(max(1, config.api_keys))]
    figures: dict[str, Any] = {"database": database.kind, "per_decision": counted, "loads": {}}
    loads = figures["loads"]
    variants: list[tuple[str, dict[str, str]]] = [("", {})]
    if database.kind == "sqlite":
        variants.append((" synchronous=NORMAL", {"CREDITGATE_SQLITE_SYNCHRONOUS": "NORMAL"}))
    for label, settings in variants:
        log = results / f"server-{database.kind}-latency{'-normal' if label else ''}.log"
        with serve(
            database.url,
            port,
            keys[0],
            log,
            config.uvicorn_args,
            more_keys=keys[1:],
            rate_limited=True,
            settings=settings,
        ) as server:
            check_decides(server)
            figures.setdefault("server_command", " ".join(server.command[1:]))
            print(f"[{database.kind}{label}] one at a time", flush=True)
            loads["one at a time" + label] = _load(config, server, run_tag + "o" + str(len(label)), connections=1)
            if not label:
                print(f"[{database.kind}] paced, {config.paced_connections} x ~{config.pace_ms} ms", flush=True)
                loads["paced"] = _load(
                    config, server, run_tag + "p", connections=config.paced_connections, pace_ms=config.pace_ms
                )
            print(f"[{database.kind}{label}] saturated, {config.connections} connections", flush=True)
            loads["saturated" + label] = _load(
                config, server, run_tag + "s" + str(len(label)), connections=config.connections
            )
    log = results / f"server-{database.kind}-validate.log"
    with serve(database.url, port, keys[0], log, None, FLOOR_FACTORY, more_keys=keys[1:]) as server:
        print(f"[{database.kind}] bare validating route, {config.connections} connections", flush=True)
        loads["validate route"] = _load(
            config, server, run_tag + "v", connections=config.connections, path=f"{PREFIX}/validate"
        )
    bare = loads["validate route"]["per_second"]
    figures["saturated_ratio"] = round(loads["saturated"]["per_second"] / bare, 3) if bare else 0.0
    return figures
