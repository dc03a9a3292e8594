"""`make bench`: decision throughput and latency on SQLite and PostgreSQL, the stack's floor, then the other
benches in bench/.

Usage: python -m bench.run [--mode throughput|floor|history|all ...] [--no-others]; tune with BENCH_* variables
(see bench/config.py and BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import RESULTS, ROOT, BenchConfig
from bench.databases import BenchDatabase, fresh_postgres, fresh_sqlite, postgres_reachable
from bench.floor import measure_floors
from bench.history import measure_history
from bench.latency import measure_latency
from bench.report import machine, print_floors, print_history, print_latency, print_throughput, write_json
from bench.throughput import measure_throughput
from bench.wrk import ensure_wrk

# Benchmarks of other areas, each run as `python -m bench.<name>` when its file exists.
MODES = ("latency", "throughput", "floor", "history")
OTHER_BENCHES = ("provider_bench", "policy_bench", "receivables_bench")


def databases(config: BenchConfig, scratch: Path) -> list[Callable[[], BenchDatabase]]:
    """A fresh database per measurement, in the configured order; PostgreSQL only when it answers."""
    makers: list[Callable[[], BenchDatabase]] = []
    for kind in config.databases:
        if kind == "sqlite":
            makers.append(lambda: fresh_sqlite(scratch))
        elif kind == "postgresql":
            if postgres_reachable(config.postgres_url):
                makers.append(lambda: fresh_postgres(config.postgres_url))
            else:
                print(f"note: PostgreSQL at BENCH_POSTGRES_URL is not reachable; skipped ({config.postgres_url})")
        else:
            raise SystemExit(f"unknown database {kind!r} in BENCH_DATABASES: use sqlite and/or postgresql")
    return makers


def run_mode(mode: str, config: BenchConfig) -> Path:
    started = machine()
    run_tag = datetime.now(UTC).strftime("%H%M%S")
    newest = datetime.now(UTC)
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="creditgate-bench-") as scratch:
        for offset, make in enumerate(databases(config, Path(scratch))):
            database = make()
            port = config.port + offset
            if mode == "throughput":
                figures.append(measure_throughput(config, database, port, RESULTS, newest, run_tag))
            elif mode == "latency":
                figures.append(measure_latency(config, database, port, RESULTS, newest, run_tag))
            elif mode == "floor":
                figures.append(measure_floors(config, database, port, RESULTS, run_tag))
            else:
                figures.extend(measure_history(config, database, port, RESULTS, newest, run_tag))
    if mode == "latency":
        print_latency(figures, config)
    elif mode == "throughput":
        print_throughput(figures, config)
    elif mode == "floor":
        print_floors(figures, config)
    else:
        print_history(figures, config)
    path = write_json(RESULTS, mode, config, started, figures)
    print(f"figures written to {path.relative_to(ROOT)}", flush=True)
    return path


def run_others(config: BenchConfig) -> None:
    for name in OTHER_BENCHES:
        if not (ROOT / "bench" / f"{name}.py").exists():
            print(f"note: bench/{name}.py is not there yet; skipped", flush=True)
            continue
        print(f"\n== bench/{name}.py", flush=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        try:
            finished = subprocess.run(
                [sys.executable, "-m", f"bench.{name}"], cwd=ROOT, env=env, timeout=config.external_timeout_s
            )
        except subprocess.TimeoutExpired:
            print(f"note: bench/{name}.py ran over {config.external_timeout_s:g} s and was stopped", flush=True)
            continue
        if finished.returncode != 0:
            print(f"note: bench/{name}.py exited with {finished.returncode}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--mode",
        choices=[*MODES, "all"],
        action="append",
        help="latency (as deployed: one at a time, paced, saturated), throughput (the default), "
        "floor (the stack's own cost, layer by layer), history; repeatable",
    )
    parser.add_argument("--no-others", action="store_true", help="skip bench/provider_bench.py and the like")
    options = parser.parse_args()
    config = BenchConfig()
    ensure_wrk()
    began = time.monotonic()
    chosen = options.mode or ["throughput"]
    modes = [mode for mode in MODES if mode in chosen or "all" in chosen]
    for mode in modes:
        run_mode(mode, config)
    if not options.no_others and modes != ["history"]:
        run_others(config)
    print(f"bench finished in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
