"""Schemathesis over the committed OpenAPI document: every operation, positive and negative data, every check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.conftest import auth
from tests.reliability import contract_hooks  # noqa: F401 - registers the cursor and CSV formats and the hooks

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def load_schema(app: Any = None, base_url: str | None = None) -> Any:
    """The committed document, sent either in process to `app` or over the network to `base_url`."""
    schema = schemathesis.openapi.from_path(str(OPENAPI))
    schema.config.generation.update(allow_x00=False)  # the document: no string may contain U+0000
    if app is not None:
        schema.app = app
    if base_url is not None:
        schema.config.update(base_url=base_url)
    return schema


def fuzz(schema: Any, max_examples: int, seed: int = 20261123) -> dict[str, str]:
    """Run every operation with positive and negative data; return operation → first failure, if any."""
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{operation.method.upper()} {operation.path} [{mode.value}]"
            try:
                _run(operation, mode, max_examples, seed)
            except Unsatisfiable:
                continue  # an operation without parameters or body has no invalid input to send
            except (Exception, BaseExceptionGroup) as exc:  # keep the first failure per operation and mode
                failures[label] = str(exc)[:2000]
    return failures


def _run(operation: Any, mode: GenerationMode, max_examples: int, seed: int) -> None:
    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        case.call_and_validate(headers=auth(), timeout=30)

    check()
