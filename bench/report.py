"""The printed tables and the JSON written under bench/results/."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import ROOT, BenchConfig

# The goals, printed beside the figures so a run says at a glance where it stands.
RATIO_GOALS = {"sqlite": 0.5, "postgresql": 0.4}
DECISION_P99_GOAL_MS = 25.0
HISTORY_P99_GOAL_MS = 20.0
GROWTH_GOAL = 1.2


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }


def write_json(results: Path, mode: str, config: BenchConfig, started: dict[str, Any], figures: Any) -> Path:
    document = {"mode": mode, "started": started, "finished": machine(), "config": asdict(config), "figures": figures}
    results.mkdir(parents=True, exist_ok=True)
    stamp = started["at"].replace(":", "").replace("-", "").split("+")[0]
    path = results / f"{mode}-{stamp}.json"
    text = json.dumps(document, indent=2, default=str)
    path.write_text(text)
    (results / f"{mode}-latest.json").write_text(text)
    return path


def _goal(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(cell).rjust(width) for cell, width in zip(line, widths, strict=True)) for line in rows]
    rule = "  ".join("-" * width for width in widths)
    return "\n".join(["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)), rule, *lines])


def print_throughput(figures: list[dict[str, Any]], config: BenchConfig) -> None:
    header = ["database", "decisions/s", "p50 ms", "p99 ms", "p99.9 ms", "non-2xx", "errors", "cpu", "cpu ms"]
    header += ["bare req/s", "bare p99 ms", "bare cpu", "bare cpu ms", "ratio", "cpu ratio", "ratio goal", "p99 goal"]
    rows = []
    for entry in figures:
        decisions, bare = entry["decisions"], entry["bare"]
        goal = RATIO_GOALS.get(entry["database"], 0.5)
        rows.append(
            [
                entry["database"],
                f"{decisions['per_second']:.0f}",
                f"{decisions['p50_ms']:.1f}",
                f"{decisions['p99_ms']:.1f}",
                f"{decisions['p999_ms']:.1f}",
                str(decisions["non_2xx"]),
                str(decisions["socket_errors"] + decisions["timeouts"]),
                f"{decisions['server_cpu']:.2f}",
                f"{decisions['cpu_ms']:.2f}",
                f"{bare['per_second']:.0f}",
                f"{bare['p99_ms']:.1f}",
                f"{bare['server_cpu']:.2f}",
                f"{bare['cpu_ms']:.2f}",
                f"{entry['ratio']:.2f}",
                f"{entry['cpu_cost_ratio']:.2f}",
                f"≥{goal} {_goal(entry['ratio'] >= goal)}",
                f"≤{DECISION_P99_GOAL_MS:g} {_goal(decisions['p99_ms'] <= DECISION_P99_GOAL_MS)}",
            ]
        )
    print(
        f"\nDecision throughput (RATE LIMIT OFF, one key): {config.connections} connections, "
        f"{config.threads} wrk thread(s), "
        f"{config.duration_s:g} s after {config.warmup_s:g} s warm-up; bare = GET /health/live on the same server"
    )
    print(_table(header, rows))
    print(
        "cpu = the server's CPU seconds per second of load (1.00 = one core busy); cpu ms = per request;\n"
        "cpu ratio = bare cpu ms / decision cpu ms, the ratio to expect when the server has a core to itself",
        flush=True,
    )


def print_history(stages: list[dict[str, Any]], config: BenchConfig) -> None:
    header = ["database", "stored", "query", "conns", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "cpu ms", "non-2xx"]
    header += ["p99 goal"]
    rows = []
    for stage in stages:
        for query in stage["queries"]:
            rows.append(
                [
                    stage["database"],
                    f"{stage['stored_before']:,}",
                    query["query"],
                    str(query["connections"]),
                    f"{query['per_second']:.0f}",
                    f"{query['p50_ms']:.1f}",
                    f"{query['p99_ms']:.1f}",
                    f"{query['p999_ms']:.1f}",
                    f"{query['cpu_ms']:.2f}",
                    str(query["non_2xx"]),
                    f"≤{HISTORY_P99_GOAL_MS:g} {_goal(query['p99_ms'] <= HISTORY_P99_GOAL_MS)}",
                ]
            )
    print(f"\nHistory queries, limit 50: {config.history_duration_s:g} s each after 1 s warm-up")
    print(_table(header, rows))
    header = ["database", "stored before", "stored after", "decisions/s", "p50 ms", "p99 ms", "cpu ms", "non-2xx"]
    header += ["p50 growth"]
    rows = []
    first_p50: dict[str, float] = {}
    for stage in stages:
        decisions = stage["decisions"]
        base = first_p50.setdefault(stage["database"], decisions["p50_ms"])
        growth = decisions["p50_ms"] / base if base else 0.0
        stage["p50_growth"] = round(growth, 3)
        rows.append(
            [
                stage["database"],
                f"{stage['stored_before']:,}",
                f"{stage['stored_after']:,}",
                f"{decisions['per_second']:.0f}",
                f"{decisions['p50_ms']:.1f}",
                f"{decisions['p99_ms']:.1f}",
                f"{decisions['cpu_ms']:.2f}",
                str(decisions["non_2xx"]),
                f"×{growth:.2f} (goal ≤{GROWTH_GOAL:g} {_goal(growth <= GROWTH_GOAL)})",
            ]
        )
    print(f"\nDecision latency by stored decisions: {config.connections} connections, {config.duration_s:g} s")
    print(_table(header, rows))
    print("cpu ms = the server's CPU milliseconds per request", flush=True)


def print_load_average(label: str) -> None:
    one, five, fifteen = os.getloadavg()
    print(f"{label}: load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs", file=sys.stderr)


def print_floors(figures: list[dict[str, Any]], config: BenchConfig) -> None:
    header = ["database", "rung", "req/s", "ratio", "p50 ms", "p99 ms", "non-2xx", "cpu", "cpu ms", "what it adds"]
    rows = []
    for entry in figures:
        for row in entry["rows"]:
            rows.append(
                [
                    entry["database"],
                    row["name"],
                    f"{row['per_second']:.0f}",
                    f"{row['ratio']:.2f}",
                    f"{row['p50_ms']:.1f}",
                    f"{row['p99_ms']:.1f}",
                    str(row["non_2xx"]),
                    f"{row['server_cpu']:.2f}",
                    f"{row['cpu_ms']:.2f}",
                    row["adds"],
                ]
            )
    print(
        f"\nThe stack's floor: {config.connections} connections, {config.duration_s:g} s per rung after "
        f"{config.warmup_s:g} s warm-up, one server; ratio = req/s over the bare endpoint's in the same run"
    )
    print(_table(header, rows), flush=True)


# The latency goals: one at a time on a cached report, ~200/s paced, and saturated against the validating route.
ONE_AT_A_TIME_GOAL_MS = (3.0, 8.0)
PACED_P99_GOAL_MS = 10.0
SATURATED_RATIO_GOAL = 0.4
SATURATED_P99_GOAL_MS = 25.0


def print_latency(figures: list[dict[str, Any]], config: BenchConfig) -> None:
    keys = max(1, config.api_keys)
    served = figures[0]["server_command"] if figures else ""
    print(
        f"\nDecision latency as deployed ({served or 'creditgate serve'}; rate limit on at its default, JSON logs, "
        f"access line, metrics), cached reports, load over {keys} API keys; {config.latency_duration_s:g} s per "
        f"load after {config.warmup_s:g} s warm-up"
    )
    header = ["database", "load", "conns", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "non-2xx", "errors"]
    header += ["cpu ms", "goal"]
    rows = []
    for entry in figures:
        ratio = entry["saturated_ratio"]
        for name, load in entry["loads"].items():
            rows.append(
                [
                    entry["database"],
                    name,
                    str(load["connections"]),
                    f"{load['per_second']:.0f}",
                    f"{load['p50_ms']:.1f}",
                    f"{load['p99_ms']:.1f}",
                    f"{load['p999_ms']:.1f}",
                    f"{load['max_ms']:.1f}",
                    str(load["non_2xx"]),
                    str(load["socket_errors"] + load["timeouts"]),
                    f"{load['cpu_ms']:.2f}",
                    _latency_goal(name, load, ratio),
                ]
            )
    print(_table(header, rows))
    print("labelled rows (synchronous=NORMAL) switch a guarantee off; the validate route is bench/floor_app.py's")
    header = ["database", "statements/decision", "transactions/decision", "waits/decision", "main thread cpu ms"]
    rows = [
        [
            entry["database"],
            f"{entry['per_decision']['statements']:.2f}",
            f"{entry['per_decision']['transactions']:.2f}",
            _waits(entry["database"], entry["per_decision"]),
            _main_thread_ms(entry["per_decision"]),
        ]
        for entry in figures
    ]
    print("\nPer decision, one at a time, in process (bench/statements.py):")
    print(_table(header, rows))
    print(
        "main thread cpu ms: the event loop thread's CPU per decision in process (the app and httpx's ASGI client, no"
    )
    print("HTTP server; the counters on): what a lone decision costs where the served process has a core to itself")
    print_load_average("latency run")


def _waits(database: str, per_decision: dict[str, float]) -> str:
    """What a lone decision waits on: hand-offs to aiosqlite's thread, or round trips to PostgreSQL."""
    if database == "sqlite":
        return f"{per_decision['thread hops']:.2f} driver thread hops"
    trips = per_decision.get("round trips")
    return "-" if trips is None else f"{trips:.2f} round trips"


def _main_thread_ms(per_decision: dict[str, float]) -> str:
    milliseconds = per_decision.get("main thread cpu ms")
    return "-" if milliseconds is None else f"{milliseconds:.2f}"


def _latency_goal(name: str, load: dict[str, Any], ratio: float) -> str:
    clean = load["non_2xx"] == 0 and load["socket_errors"] + load["timeouts"] == 0
    if name == "one at a time":
        p50, p99 = ONE_AT_A_TIME_GOAL_MS
        return f"p50<={p50:g} p99<={p99:g}: {_goal(load['p50_ms'] <= p50 and load['p99_ms'] <= p99 and clean)}"
    if name == "paced":
        ok = load["p99_ms"] <= PACED_P99_GOAL_MS and clean
        return f"p99<={PACED_P99_GOAL_MS:g}, all 201: {_goal(ok)}"
    if name == "saturated":
        ok = ratio >= SATURATED_RATIO_GOAL and load["p99_ms"] <= SATURATED_P99_GOAL_MS and clean
        return f"{ratio:.2f}x validate (>={SATURATED_RATIO_GOAL:g}), p99<={SATURATED_P99_GOAL_MS:g}: {_goal(ok)}"
    return "-"
