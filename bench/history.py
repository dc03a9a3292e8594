"""History query latency and decision latency at growing numbers of stored decisions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bench.config import BenchConfig
from bench.databases import BenchDatabase, count_decisions
from bench.seed import seed_decisions
from bench.server import RunningServer, cpu_seconds, generate_key, serve
from bench.throughput import check_decides, decision_load
from bench.wrk import run_wrk

QUERIES = {
    "history_customer": "GET /v1/decisions?customer_id=…&limit=50",
    "history_all": "GET /v1/decisions?limit=50",
}
QUERY_WARMUP_S = 1.0


def measure_history(
    config: BenchConfig, database: BenchDatabase, port: int, results: Path, newest: datetime, run_tag: str
) -> list[dict[str, Any]]:
    """For each scale: seed up to it, then the history queries, then the decision load, on a fresh server."""
    stages = []
    for scale in sorted(config.history_scales):
        print(f"[{database.kind}] seeding up to {scale:,} decisions", flush=True)
        seed_decisions(database, scale, config.history_customers, newest)
        stored = count_decisions(database)
        log = results / f"server-{database.kind}-history.log"
        with serve(database.url, port, generate_key(), log, config.uvicorn_args) as server:
            check_decides(server)
            queries = _queries(config, server, database.kind, stored)
            print(f"[{database.kind}] decisions at {stored:,} stored", flush=True)
            decision_load(config, server, f"{run_tag}h{scale}w", config.warmup_s)
            cpu = cpu_seconds(server.pid)
            decisions = decision_load(config, server, f"{run_tag}h{scale}", config.duration_s)
            decision_cpu_ms = _cpu_ms(cpu_seconds(server.pid) - cpu, decisions.requests)
        stages.append(
            {
                "database": database.kind,
                "scale": scale,
                "stored_before": stored,
                "stored_after": count_decisions(database),
                "queries": queries,
                "decisions": {**decisions.as_dict(), "cpu_ms": decision_cpu_ms},
            }
        )
    return stages


def _queries(config: BenchConfig, server: RunningServer, kind: str, stored: int) -> list[dict[str, Any]]:
    measured = []
    for mode in QUERIES:
        for connections in config.history_connections:
            print(f"[{kind}] {mode} at {stored:,} stored, {connections} connection(s)", flush=True)
            args = [mode, server.api_key, str(config.history_customers)]
            run_wrk(server.base_url, "get.lua", args, seconds=QUERY_WARMUP_S, connections=connections, threads=1)
            cpu = cpu_seconds(server.pid)
            result = run_wrk(
                server.base_url,
                "get.lua",
                args,
                seconds=config.history_duration_s,
                connections=connections,
                threads=min(config.threads, connections),
            )
            cpu_ms = _cpu_ms(cpu_seconds(server.pid) - cpu, result.requests)
            measured.append({"query": mode, "connections": connections, **result.as_dict(), "cpu_ms": cpu_ms})
    return measured


def _cpu_ms(cpu: float, requests: int) -> float:
    """The server's CPU milliseconds per request: steadier than latency when other work shares the machine."""
    return round(cpu / requests * 1000, 3) if requests else 0.0
