"""Driving load with wrk (Debian's package) and reading its latency distribution."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package when it is missing (apt-get update only if the install fails)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, timeout=600, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], timeout=600, check=True)
        subprocess.run(install, timeout=600, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is still not on PATH after apt-get install wrk")
    return found


@dataclass(frozen=True)
class LoadResult:
    """One wrk run: throughput, latency percentiles in milliseconds, and what went wrong."""

    requests: int
    seconds: float
    per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float
    non_2xx: int
    socket_errors: int
    timeouts: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def run_wrk(
    url: str,
    script: str,
    args: list[str],
    *,
    seconds: float,
    connections: int,
    threads: int,
    pace_ms: int = 0,
) -> LoadResult:
    """One bounded wrk run against a loopback URL; its figures come from the script's done() hook.

    `pace_ms` > 0: each connection waits about that long (uniformly 0.5x to 1.5x) before each request."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("the bench only loads servers on 127.0.0.1")
    wrk = ensure_wrk()
    source = (LUA / script).read_text() + "\n" + (LUA / "report.lua").read_text()
    if pace_ms > 0:
        source += "\n" + (LUA / "paced.lua").read_text().replace("PACE_MS", str(int(pace_ms)))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(source)
        script_path = handle.name
    command = [
        wrk,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        script_path,
        url,
        "--",
        *args,
    ]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    finally:
        Path(script_path).unlink(missing_ok=True)
    return parse_output(finished.stdout)


def parse_output(output: str) -> LoadResult:
    line = next((line for line in output.splitlines() if line.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    seconds = raw["duration_us"] / 1e6
    return LoadResult(
        requests=raw["requests"],
        seconds=round(seconds, 3),
        per_second=round(raw["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=round(raw["mean_us"] / 1000, 3),
        non_2xx=raw["non_2xx"],
        socket_errors=raw["connect_errors"] + raw["read_errors"] + raw["write_errors"],
        timeouts=raw["timeouts"],
    )
