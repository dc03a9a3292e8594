"""The domain raises errors without the web framework: only the HTTP edge imports FastAPI or Starlette."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
# The HTTP edge: routers and handlers, the console, the app factory, the ASGI middleware and request logging.
EDGE = ("api/", "console/", "main.py", "middleware.py", "observability/")


def _web_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        found += [m for m in modules if m.split(".")[0] in ("fastapi", "starlette")]
    return found


def test_no_module_outside_the_http_edge_imports_fastapi_or_starlette() -> None:
    offenders = {
        str(path.relative_to(APP)): imports
        for path in sorted(APP.rglob("*.py"))
        if not str(path.relative_to(APP)).startswith(EDGE) and (imports := _web_imports(path))
    }
    assert offenders == {}


def test_a_scope_check_carries_its_scopes_as_data() -> None:
    from app.api.deps import require_any_scope, require_decide, require_scope

    assert getattr(require_scope("read"), "scopes", None) == frozenset({"read"})
    assert getattr(require_any_scope("read", "review"), "scopes", None) == frozenset({"read", "review"})
    assert getattr(require_decide, "scopes", None) == frozenset({"decide"})
