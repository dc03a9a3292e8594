"""Limits on the console: the queue of limits due for review and the open limit requests (read-only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.console.web import ConsoleRoute, ConsoleUser, needs, render
from app.services import services_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(needs("read"))]


@router.get("/limits")
async def limits(request: Request, user: Reader, due_by: str | None = None) -> Response:
    services = services_of(request.app)
    errors: dict[str, str] = {}
    day = None
    if due_by:
        try:
            day = date.fromisoformat(due_by)
        except ValueError:
            errors["due_by"] = "a day such as 2026-12-31"
    queue = await services.limit_reviews.queue(day, 500)
    requests = await services.limit_requests.list("pending", None, 200)
    return render(
        request,
        "limits.html",
        user,
        queue=queue,
        requests=requests.items,
        form={"due_by": due_by or ""},
        errors=errors,
        status_code=422 if errors else 200,
    )
