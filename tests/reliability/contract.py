"""The API's contract, checked by schemathesis' own runner: the served document, every check, every phase.

`st run` is given the document the server itself serves (not the committed file), runs the examples, coverage,
fuzzing and stateful phases (the stateful phase follows the document's links), and applies every check it
has, `positive_data_acceptance` and `negative_data_rejection` included. Deterministic generation (no seed, no
example database) makes a failure reproducible with the same command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ALL_KEY

ROOT = Path(__file__).resolve().parents[2]
HOOKS = "tests.reliability.contract_hooks"
PHASES = "examples,coverage,fuzzing,stateful"
CONFIG = Path(__file__).with_name("schemathesis.toml")


@dataclass(frozen=True)
class ContractRun:
    returncode: int
    output: str
    seconds: float

    @property
    def summary(self) -> str:
        """schemathesis' SUMMARY section: operations, phases, failures and the test case counts."""
        marker = self.output.rfind("SUMMARY")
        return self.output[self.output.rfind("\n", 0, marker) + 1 :] if marker >= 0 else self.output[-4000:]

    @property
    def failures(self) -> int:
        found = re.search(r"(\d+) failures?", self.summary)
        return int(found.group(1)) if found else 0


def run_schemathesis(base_url: str, report_dir: Path, max_examples: int, timeout: float = 1200) -> ContractRun:
    """`st run` over `base_url`/openapi.json with one worker, so that requests reach the server in one order."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {ALL_KEY}",
        "--checks",
        "all",
        "--phases",
        PHASES,
        "--max-examples",
        str(max_examples),
        "--generation-deterministic",
        # The document's description: no string may contain U+0000 (PostgreSQL cannot store one).
        "--generation-allow-x00",
        "false",
        # Hypothesis may drop most of the cases it draws for a large body with patterned ids and amounts (the
        # receivables batch's negative cases): its health check then ends that operation's fuzzing with an
        # error, not a finding. Without it the operation is fuzzed; every case sent is still checked.
        "--suppress-health-check",
        "filter_too_much",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
    ]
    env = dict(os.environ)
    env.update(
        {
            "SCHEMATHESIS_HOOKS": HOOKS,
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            "COLUMNS": "120",
        }
    )
    started = time.monotonic()
    completed = subprocess.run(  # noqa: S603 - our own virtualenv's runner, fixed arguments
        command, cwd=report_dir, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = completed.stdout + completed.stderr
    (report_dir / "schemathesis.txt").write_text(output)
    return ContractRun(completed.returncode, output, time.monotonic() - started)
