"""Decisions/s and latency against the same server's bare JSON endpoint, under the same load."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.config import BenchConfig
from bench.databases import BenchDatabase, count_decisions
from bench.seed import SEEDERS, seed_decisions
from bench.server import RunningServer, cpu_seconds, generate_key, post_json, serve
from bench.wrk import LoadResult, run_wrk

SMOKE_BODY: dict[str, object] = {
    "order": {"id": "SO-SMOKE-1", "amount": "1250.00", "currency": "EUR"},
    "customer": {"id": "C-000001", "name": "Customer 1 B.V.", "country": "NL", "registration_number": "10000011"},
}


def check_decides(server: RunningServer) -> None:
    """One decision before the load: a server that answers anything but 201 would make every figure moot."""
    status, body = post_json(server, "/v1/decisions", SMOKE_BODY)
    if status != 201:
        raise RuntimeError(f"POST /v1/decisions answered {status}: {body}")


def decision_load(
    config: BenchConfig, server: RunningServer, run_tag: str, seconds: float, path: str = "/v1/decisions"
) -> LoadResult:
    """Varied decision bodies, posted to `path` (bench/floor.py posts the same bodies to its floor routes)."""
    args = [server.api_key, str(config.customers), run_tag, path]
    return run_wrk(
        server.base_url,
        "decisions.lua",
        args,
        seconds=seconds,
        connections=config.connections,
        threads=config.threads,
    )


def bare_load(config: BenchConfig, server: RunningServer, seconds: float) -> LoadResult:
    return run_wrk(
        server.base_url, "get.lua", ["live"], seconds=seconds, connections=config.connections, threads=config.threads
    )


def measure_throughput(
    config: BenchConfig, database: BenchDatabase, port: int, results: Path, newest: datetime, run_tag: str
) -> dict[str, Any]:
    print(f"[{database.kind}] seeding", flush=True)
    notes = [seeder(database, config.customers) for seeder in SEEDERS]
    for note in notes:
        print(f"  {note}", flush=True)
    seed_decisions(database, config.seed_decisions, config.customers, newest)
    stored_before = count_decisions(database)
    log = results / f"server-{database.kind}.log"
    with serve(database.url, port, generate_key(), log, config.uvicorn_args) as server:
        check_decides(server)
        print(f"[{database.kind}] bare endpoint: {config.warmup_s:g} s warm-up, {config.duration_s:g} s", flush=True)
        bare = measured(config, server, lambda seconds, _phase: bare_load(config, server, seconds))
        print(f"[{database.kind}] decisions: {config.warmup_s:g} s warm-up, {config.duration_s:g} s", flush=True)
        decisions = measured(
            config, server, lambda seconds, phase: decision_load(config, server, run_tag + phase, seconds)
        )
        profile = _profile(config, server, results, database.kind, run_tag)
        command = server.command
    ratio = decisions["per_second"] / bare["per_second"] if bare["per_second"] else 0.0
    return {
        "database": database.kind,
        "decisions": decisions,
        "bare": bare,
        "ratio": round(ratio, 3),
        # What the ratio would be if both were CPU-bound on a core of their own: steadier on a busy machine.
        "cpu_cost_ratio": round(bare["cpu_ms"] / decisions["cpu_ms"], 3) if decisions["cpu_ms"] else 0.0,
        "stored_decisions_before": stored_before,
        "stored_decisions_after": count_decisions(database),
        "seed_notes": notes,
        "server_command": " ".join(Path(part).name if i == 0 else part for i, part in enumerate(command)),
        "profile": profile,
    }


def measured(config: BenchConfig, server: RunningServer, load: Callable[[float, str], LoadResult]) -> dict[str, Any]:
    """`load(seconds, phase)` warmed up (phase "w"), then measured (phase ""): wrk's figures and the server's
    CPU per second of load and per request. Loads that need fresh order ids give each phase a run tag."""
    load(config.warmup_s, "w")
    cpu = cpu_seconds(server.pid)
    result = load(config.duration_s, "")
    server_cpu = (cpu_seconds(server.pid) - cpu) / result.seconds
    return {**result.as_dict(), "server_cpu": round(server_cpu, 2), "cpu_ms": _cpu_ms(server_cpu, result.per_second)}


def _cpu_ms(cpu_per_second: float, requests_per_second: float) -> float:
    """The server's CPU milliseconds per request."""
    return round(cpu_per_second / requests_per_second * 1000, 3) if requests_per_second else 0.0


def _profile(config: BenchConfig, server: RunningServer, results: Path, kind: str, run_tag: str) -> str | None:
    """An extra, unmeasured decision load sampled by py-spy, so profiling never bends the figures above."""
    if not config.profile_with:
        return None
    py_spy = shutil.which(config.profile_with) or config.profile_with
    seconds = max(5, round(config.duration_s))
    output = results / f"profile-{kind}.txt"
    print(f"[{kind}] profiling the decision path with py-spy for {seconds} s -> {output}", flush=True)
    command = [py_spy, "record", "--pid", str(server.pid), "--duration", str(seconds), "--rate", "200"]
    command += ["--format", "raw", "--output", str(output), *config.profile_args]
    sampler = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        decision_load(config, server, run_tag + "p", seconds)
    finally:
        sampler.wait(timeout=seconds + 60)
    return str(output)
