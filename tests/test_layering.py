"""The layering rules hold: the contracts in pyproject.toml ([tool.importlinter]) and the pure policy core's
allow-list. Both read the same import graph (grimp), which counts imports inside functions and under
TYPE_CHECKING: a dependency does not go away by moving its import into a function."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent

# What app.policy may import: it is the pure decision core, replayable and testable without I/O.
POLICY_MAY_IMPORT = {"pydantic", "yaml", "app.money"}


def test_import_contracts_are_kept() -> None:
    """app.api imports no repository, app.providers no app.decisions, and no package cycles under app.

    In a process of its own: lint-imports configures logging, which would silence the app's loggers here."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run(  # noqa: S603 - our own virtualenv's script, fixed arguments
        [str(lint_imports), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _outside_imports(graph: grimp.ImportGraph, package: str) -> dict[str, set[str]]:
    """Each module that `package` imports from outside itself, with the modules of `package` that import it."""
    found: dict[str, set[str]] = {}
    for module in graph.find_descendants(package) | {package}:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != package and not imported.startswith(package + "."):
                found.setdefault(imported, set()).add(module)
    return found


def _allowed_for_policy(imported: str) -> bool:
    top = imported.split(".", 1)[0]
    return (
        top in sys.stdlib_module_names
        or imported in POLICY_MAY_IMPORT
        or top in POLICY_MAY_IMPORT
        or any(imported.startswith(allowed + ".") for allowed in POLICY_MAY_IMPORT)
    )


def test_policy_imports_only_the_standard_library_pydantic_yaml_and_money() -> None:
    graph = grimp.build_graph("app", include_external_packages=True)
    refused = {
        imported: sorted(importers)
        for imported, importers in _outside_imports(graph, "app.policy").items()
        if not _allowed_for_policy(imported)
    }
    assert refused == {}


def _names_imported_from(tree: ast.AST, module: str) -> set[str]:
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == module
        for alias in node.names
    }


def test_the_api_never_holds_the_database() -> None:
    """Routers talk to services: none imports the Database (to open a session or hand it to a domain function)
    or the session types; app.api importing a repository is the import-linter contract above."""
    held = {
        str(path.relative_to(ROOT)): sorted(names)
        for path in sorted((ROOT / "app" / "api").rglob("*.py"))
        if (
            names := _names_imported_from(ast.parse(path.read_text()), "app.db")
            & {"Database", "ReadSession", "WriteSession"}
        )
    }
    assert held == {}


def test_the_database_rule_sees_an_import() -> None:
    tree = ast.parse("from app.db import Database, utcnow\nfrom app.db import HeavyReadsBusy\n")
    assert _names_imported_from(tree, "app.db") == {"Database", "utcnow", "HeavyReadsBusy"}
