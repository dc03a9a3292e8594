"""The service as deployed: `creditgate serve` (uvicorn with the app factory, one worker) on a loopback port."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.config import ROOT

READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15
APP_FACTORY = "app.main:app_factory"


def generate_key() -> str:
    return "bench_" + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class RunningServer:
    pid: int
    base_url: str
    api_key: str
    command: list[str]
    api_keys: tuple[str, ...] = ()

    @property
    def all_keys(self) -> str:
        """Every key the server accepts, comma-separated, as bench/lua/decisions.lua takes them."""
        return ",".join(self.api_keys or (self.api_key,))


def server_command(port: int, extra_args: list[str] | None, factory: str = APP_FACTORY) -> list[str]:
    """`creditgate serve` when no uvicorn options are given (what a user runs: JSON logs, the app's own access
    line, metrics); else uvicorn itself with those options (the floor app, or a labelled variant)."""
    if extra_args is None and factory == APP_FACTORY:
        return [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if extra_args is None:
        extra_args = ["--no-access-log"]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        *extra_args,
    ]


@contextmanager
def serve(
    database_url: str,
    port: int,
    api_key: str,
    log_file: Path,
    extra_args: list[str] | None,
    factory: str = APP_FACTORY,
    *,
    more_keys: Sequence[str] = (),
    rate_limited: bool = False,
    settings: Mapping[str, str] | None = None,
) -> Iterator[RunningServer]:
    """Starts the server, waits until it is ready, and always stops it.

    Without `rate_limited` the decision rate limit is off: one bench key sends far more than a client may.
    With it, the limit is the shipped default, per key (`more_keys`: one key per checkout)."""
    env = dict(os.environ)
    keys = (api_key, *more_keys)
    env.update(
        {
            "CREDITGATE_DATABASE_URL": database_url,
            "CREDITGATE_API_KEYS": json.dumps({key: ["decide", "read"] for key in keys}),
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            **(settings or {}),
        }
    )
    if not rate_limited:
        env["CREDITGATE_DECISION_RATE_LIMIT"] = "0"
    command = server_command(port, extra_args, factory)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_ready(process, base_url, log_file)
            yield RunningServer(process.pid, base_url, api_key, command, keys)
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log_file: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log_file}")
        try:
            if httpx.get(base_url + "/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server was not ready within {READY_TIMEOUT_S} s; see {log_file}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


def post_json(server: RunningServer, path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    """One request outside the load, to check the server answers as the load expects."""
    response = httpx.post(
        server.base_url + path, json=body, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=10
    )
    answer: dict[str, object] = response.json() if response.content else {}
    return response.status_code, answer


def cpu_seconds(pid: int) -> float:
    """CPU time the server has used so far, all its threads: busy near 1 s per second means CPU-bound."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])  # utime and stime
    return ticks / os.sysconf("SC_CLK_TCK")
