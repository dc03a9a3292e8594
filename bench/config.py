"""What a benchmark run measures, read from BENCH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/creditgate_bench"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


@dataclass(frozen=True)
class BenchConfig:
    """Load shape and data sizes; every figure is measured with these."""

    duration_s: float = field(default_factory=lambda: _float("BENCH_DURATION", 10))
    warmup_s: float = field(default_factory=lambda: _float("BENCH_WARMUP", 2))
    connections: int = field(default_factory=lambda: _int("BENCH_CONNECTIONS", 32))
    threads: int = field(default_factory=lambda: _int("BENCH_THREADS", 1))
    # Where servers listen: the bench uses this port and the next few, on 127.0.0.1 only.
    port: int = field(default_factory=lambda: _int("BENCH_PORT", 18100))
    databases: list[str] = field(default_factory=lambda: _list("BENCH_DATABASES", "sqlite,postgresql"))
    postgres_url: str = field(default_factory=lambda: os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    customers: int = field(default_factory=lambda: _int("BENCH_CUSTOMERS", 10_000))
    # Decisions already stored when the throughput run starts: a table that is not empty, as in production.
    seed_decisions: int = field(default_factory=lambda: _int("BENCH_SEED_DECISIONS", 10_000))
    history_scales: list[int] = field(
        default_factory=lambda: [int(n) for n in _list("BENCH_HISTORY_SCALES", "10000,1000000")]
    )
    # Few customers in the history run, so a customer's page holds 50 decisions at 10k stored as at 1M:
    # the two scales then differ only in the size of the table.
    history_customers: int = field(default_factory=lambda: _int("BENCH_HISTORY_CUSTOMERS", 100))
    history_duration_s: float = field(default_factory=lambda: _float("BENCH_HISTORY_DURATION", 5))
    history_connections: list[int] = field(
        default_factory=lambda: [int(n) for n in _list("BENCH_HISTORY_CONNECTIONS", "1,32")]
    )
    # Unset: the server is `creditgate serve`, as a user runs it (JSON logs, the app's access line, metrics).
    # Set: uvicorn itself with these options instead, e.g. "--no-access-log"; the report labels such a run.
    uvicorn_args: list[str] | None = field(
        default_factory=lambda: os.environ["BENCH_UVICORN_ARGS"].split() if "BENCH_UVICORN_ARGS" in os.environ else None
    )
    # The latency mode: offered load of the paced run (connections, each pausing about this long between requests),
    # API keys the load spreads over (one per checkout), and what the rate limit is (unset: the shipped default).
    paced_connections: int = field(default_factory=lambda: _int("BENCH_PACED_CONNECTIONS", 20))
    pace_ms: int = field(default_factory=lambda: _int("BENCH_PACE_MS", 100))
    api_keys: int = field(default_factory=lambda: _int("BENCH_API_KEYS", 32))
    latency_duration_s: float = field(default_factory=lambda: _float("BENCH_LATENCY_DURATION", 8))
    # A py-spy executable: when set, the decision load is profiled and the profile written to bench/results/.
    profile_with: str = field(default_factory=lambda: os.environ.get("BENCH_PROFILE", ""))
    # Extra py-spy options, e.g. "--gil" to see only where the interpreter itself spends its time.
    profile_args: list[str] = field(default_factory=lambda: os.environ.get("BENCH_PROFILE_ARGS", "").split())
    external_timeout_s: float = field(default_factory=lambda: _float("BENCH_EXTERNAL_TIMEOUT", 900))
