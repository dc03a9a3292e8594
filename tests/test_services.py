"""The services container is typed and is the only thing on `app.state`: a misspelt service is a mypy error, and
no module but the container's own reads or writes another `app.state` attribute."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILDER = ROOT / "app" / "services.py"


def mypy_errors(tmp_path: Path, snippet: str, name: str) -> dict[int, str]:
    """mypy (the project's strict settings) on `snippet` as module `name`: each error's line and message.

    Matched by file name, not path: for a module whose source it has seen before, mypy's cache reports the
    errors under the path it was first checked at."""
    source = tmp_path / f"{name}.py"
    source.write_text(snippet)
    run = subprocess.run(  # noqa: S603 - our own virtualenv's mypy, fixed arguments
        [sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context", str(source)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 2 would be mypy itself failing
    errors = {}
    for line in run.stdout.splitlines():
        found = re.match(rf"(?:.*/)?{re.escape(source.name)}:(\d+): error: (.*)", line)
        if found:
            errors[int(found.group(1))] = found.group(2)
    return errors


SNIPPET = """\
from fastapi import Depends

from app.api.deps import provided
from app.services import Services


def spelt_right(services: Services) -> None:
    print(services.decisions, services.console_signer)


def misspelt(services: Services) -> None:
    print(services.decision)


right = Depends(provided(lambda s: s.reviews))
wrong = Depends(provided(lambda s: s.review))
"""


def test_a_misspelt_service_is_a_type_error(tmp_path: Path) -> None:
    errors = mypy_errors(tmp_path, SNIPPET, "misspelt_service")
    assert sorted(errors) == [12, 16], errors
    assert '"Services" has no attribute "decision"' in errors[12]
    assert '"Services" has no attribute "review"' in errors[16]


def _state_uses(tree: ast.AST) -> list[int]:
    """Lines that touch `<something>.state.<name>` for a name other than `services`, or hand `app.state`
    itself around (`getattr(app.state, ...)`, `state = request.app.state`)."""
    through_services: set[int] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "state":
            if node.attr == "services":
                through_services.add(id(node.value))
            else:
                found.append(node.lineno)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "state"
            and id(node) not in through_services
            and (
                (isinstance(node.value, ast.Name) and node.value.id == "app")
                or (isinstance(node.value, ast.Attribute) and node.value.attr == "app")
            )
        ):
            found.append(node.lineno)
    return sorted(set(found))


def test_the_state_rule_catches_what_it_should() -> None:
    caught = """\
a = request.app.state.decisions
b = getattr(app.state, "keys")
app.state.reports = None
c = second.state.monitor
d = request.app.state.services.decisions
e = breaker.state == "open"
"""
    assert _state_uses(ast.parse(caught)) == [1, 2, 3, 4]


def test_only_the_container_touches_app_state() -> None:
    offenders = {}
    for folder in ("app", "bench", "scripts", "tests", "migrations"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == BUILDER:
                continue
            lines = _state_uses(ast.parse(path.read_text(), filename=str(path)))
            if lines:
                offenders[str(path.relative_to(ROOT))] = lines
    assert offenders == {}
